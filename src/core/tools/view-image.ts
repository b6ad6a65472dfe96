// view_image: the model looks at a local image. The image goes back as the call's output (an
// input_image data URL), so the next request carries it.
import * as v from "valibot";
import { resolve } from "../util/path.ts";
import { describeError } from "../errors.ts";
import { FileTooLargeError } from "../runtime.ts";
import { dataUrl, sniffImageMime } from "../util/image.ts";
import { ToolError, defineTool } from "./define-tool.ts";

/** Larger files are refused: the Responses API rejects images over 20 MB. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

export const viewImageTool = defineTool({
  name: "view_image",
  description:
    "Shows you a local image file (PNG, JPEG, GIF or WebP), for example a screenshot or a rendered chart, " +
    "when you need to look at it. The path is relative to the working directory unless absolute.",
  parameters: () => v.object({ path: v.string(), detail: v.optional(v.picklist(["high", "original"])) }),
  jsonSchema: {
    type: "object",
    properties: {
      path: { type: "string", description: "Path of the image file." },
      detail: {
        type: "string",
        enum: ["high", "original"],
        description: "Resolution to look at: high (default) or original for exact pixels.",
      },
    },
    required: ["path"],
    additionalProperties: false,
  },
  async execute(args, ctx) {
    const path = resolve(ctx.cwd, args.path);
    const stat = await ctx.runtime.fs.stat(path);
    if (!stat) throw new ToolError(`unable to locate image at \`${path}\`: No such file or directory`);
    if (!stat.isFile) throw new ToolError(`unable to view \`${path}\`: it is a directory, not an image file`);
    if (stat.size > MAX_IMAGE_BYTES) {
      throw new ToolError(`unable to view \`${path}\`: the image is ${(stat.size / 1048576).toFixed(1)} MB; the limit is 20 MB`);
    }
    let bytes: Uint8Array;
    try {
      // Bounded: the file may have grown since stat.
      bytes = await ctx.runtime.fs.readFile(path, { maxBytes: MAX_IMAGE_BYTES });
    } catch (e) {
      if (e instanceof FileTooLargeError) throw new ToolError(`unable to view \`${path}\`: the image is larger than 20 MB, the limit`);
      throw new ToolError(`unable to read image at \`${path}\`: ${describeError(e)}`);
    }
    const mime = sniffImageMime(bytes);
    if (!mime) throw new ToolError(`unable to view \`${path}\`: not a PNG, JPEG, GIF or WebP image`);
    return [{ type: "input_image", image_url: dataUrl(mime, bytes), detail: args.detail ?? "high" }];
  },
});
