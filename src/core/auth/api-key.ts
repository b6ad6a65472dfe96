// API-key credentials for the OpenAI provider: CODEX_API_KEY first, then auth.json
// (contract section 4.2). ChatGPT sign-in and token refresh come with the login issue.
import { join } from "pathe";
import { OcxError } from "../errors.ts";
import type { Runtime } from "../runtime.ts";

export interface AuthDotJson {
  auth_mode?: string;
  OPENAI_API_KEY?: string | null;
  tokens?: unknown;
  last_refresh?: string;
}

export async function readAuthJson(runtime: Runtime, codexHome: string): Promise<AuthDotJson | null> {
  const file = join(codexHome, "auth.json");
  if (!(await runtime.fs.stat(file))?.isFile) return null;
  try {
    return JSON.parse(await runtime.fs.readTextFile(file)) as AuthDotJson;
  } catch {
    throw new OcxError("auth", `${file} is not valid JSON; fix or remove it`);
  }
}

export async function resolveOpenAiApiKey(runtime: Runtime, codexHome: string): Promise<string> {
  const fromEnv = runtime.env("CODEX_API_KEY")?.trim();
  if (fromEnv) return fromEnv;
  const auth = await readAuthJson(runtime, codexHome);
  const stored = auth?.OPENAI_API_KEY?.trim();
  if (stored) return stored;
  if (auth?.tokens) {
    throw new OcxError(
      "auth",
      "auth.json holds a ChatGPT sign-in, which this build of ocx cannot use yet; set CODEX_API_KEY to an API key",
    );
  }
  throw new OcxError(
    "auth",
    "No API key found: set CODEX_API_KEY, or store {\"OPENAI_API_KEY\": \"sk-...\"} in $CODEX_HOME/auth.json",
  );
}
