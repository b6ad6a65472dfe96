// -i/--image FILE: local images sent before the prompt text as input_image data URLs.
import { extname, resolve } from "../util/path.ts";
import { OcxError, describeError } from "../errors.ts";
import { FileTooLargeError, type Runtime } from "../runtime.ts";
import { MAX_IMAGE_BYTES } from "../tools/view-image.ts";
import { formatBytes } from "../util/format.ts";
import { dataUrl } from "../util/image.ts";

const MIME: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
};

export async function imageParts(runtime: Runtime, cwd: string, files: string[]) {
  const parts: Array<Record<string, unknown>> = [];
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const path = resolve(cwd, file);
    const mime = MIME[extname(path).toLowerCase()];
    if (!mime) throw new OcxError("config", `Unsupported image type: ${file} (use png, jpeg, gif or webp)`);
    let bytes: Uint8Array;
    try {
      bytes = await runtime.fs.readFile(path, { maxBytes: MAX_IMAGE_BYTES });
    } catch (e) {
      if (e instanceof FileTooLargeError) {
        throw new OcxError("config", `Cannot read image ${file}: it is larger than ${formatBytes(MAX_IMAGE_BYTES)}, the limit for one image`);
      }
      throw new OcxError("config", `Cannot read image ${file}: ${describeError(e)}`);
    }
    parts.push({ type: "input_text", text: `<image name=[Image #${i + 1}] path="${path}">` });
    parts.push({ type: "input_image", image_url: dataUrl(mime, bytes), detail: "original" });
    parts.push({ type: "input_text", text: "</image>" });
  }
  return parts;
}
