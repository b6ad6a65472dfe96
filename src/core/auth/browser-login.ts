// `ocx login`: ChatGPT sign-in in a browser with PKCE and a callback server on localhost
// (contract §4.3). The URL is printed, so on a headless machine it can be opened elsewhere
// with the port forwarded (or use --device-auth).
import type { Config } from "../config/schema.ts";
import { ExitCode, OcxError } from "../errors.ts";
import { sleep } from "../model/retry.ts";
import { AddressInUseError, type HttpServer, type Runtime } from "../runtime.ts";
import { refuseChatGptIfForced, saveChatGptSignIn } from "./login.ts";
import { exchangeCode, oauthSettings, pkcePair, randomState, TokenEndpointError } from "./oauth.ts";

const DEFAULT_PORT = 1455;
/** Where the reference goes when 1455 stays busy. */
const FALLBACK_PORT = 1457;
const LOGIN_TIMEOUT_MS = 15 * 60 * 1000;
const SCOPES = "openid profile email offline_access api.connectors.read api.connectors.invoke";

export async function loginWithBrowser(runtime: Runtime, config: Config, home: string, signal: AbortSignal): Promise<number> {
  refuseChatGptIfForced(config);
  const s = oauthSettings(runtime, config);
  const pkce = await pkcePair();
  const state = randomState();

  let settle!: (outcome: { error?: OcxError }) => void;
  const finished = new Promise<{ error?: OcxError }>((resolve) => (settle = resolve));
  let redirectUri = "";
  let busy = false;

  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === "/cancel") {
      settle({ error: new OcxError("auth", "Login cancelled: another `ocx login` took over the callback port") });
      return page(200, "Login cancelled", "Another sign-in took over.");
    }
    if (url.pathname !== "/auth/callback") return page(404, "Not found", "");
    // Checked first: a request without this run's state cannot end or influence the sign-in.
    if (url.searchParams.get("state") !== state) return page(400, "State mismatch", "This link does not belong to the running `ocx login`.");
    const denied = url.searchParams.get("error");
    if (denied) {
      const why = url.searchParams.get("error_description") ?? denied;
      settle({ error: new OcxError("auth", `Sign-in failed at the issuer: ${why}; run \`ocx login\` to try again`) });
      return page(400, "Sign-in failed", why);
    }
    const code = url.searchParams.get("code");
    if (!code) return page(400, "Missing authorization code", "");
    if (busy) return page(409, "Sign-in already in progress", "");
    busy = true;
    try {
      const tokens = await exchangeCode(runtime, s, { code, redirectUri, codeVerifier: pkce.verifier }, signal);
      await saveChatGptSignIn(runtime, home, tokens);
    } catch (e) {
      const message = e instanceof TokenEndpointError ? e.message : e instanceof OcxError ? e.message : String(e);
      settle({ error: new OcxError("auth", `Sign-in failed: ${message}; run \`ocx login\` to try again`) });
      return page(500, "Sign-in failed", message);
    }
    settle({});
    return page(200, "Signed in to ocx", "You can close this tab and return to the terminal.");
  };

  const server = await bind(runtime, handler, signal);
  try {
    redirectUri = `http://localhost:${server.port}/auth/callback`;
    // encodeURIComponent: spaces as %20, as the issuer's own client sends them
    const query = Object.entries({
      response_type: "code",
      client_id: s.clientId,
      redirect_uri: redirectUri,
      scope: SCOPES,
      code_challenge: pkce.challenge,
      code_challenge_method: "S256",
      id_token_add_organizations: "true",
      codex_cli_simplified_flow: "true",
      state,
      originator: runtime.env("CODEX_INTERNAL_ORIGINATOR_OVERRIDE") ?? "ocx",
    })
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join("&");
    const url = `${s.issuer}/oauth/authorize?${query}`;
    runtime.stderr.write(
      `Starting local login server on http://localhost:${server.port}.\n` +
        `If your browser did not open, navigate to this URL to authenticate:\n\n${url}\n\n` +
        `On a machine without a browser, forward the port (ssh -L ${server.port}:localhost:${server.port} HOST) ` +
        "or run `ocx login --device-auth`.\n",
    );
    openBrowser(runtime, url);

    const timeout = sleep(LOGIN_TIMEOUT_MS, signal).then(() => ({
      error: new OcxError("auth", "No sign-in arrived within 15 minutes; run `ocx login` to try again"),
    }));
    const outcome = await Promise.race([finished, timeout]);
    if (outcome.error) throw outcome.error;
    runtime.stderr.write("Successfully logged in\n");
    return ExitCode.ok;
  } finally {
    await sleep(100).catch(() => {}); // let the browser receive the last page
    await server.close().catch(() => {});
  }
}

/** 127.0.0.1 on the login port; a previous `ocx login` holding it is asked to stop (/cancel). */
async function bind(runtime: Runtime, handler: (r: Request) => Promise<Response>, signal: AbortSignal): Promise<HttpServer> {
  const override = Number(runtime.env("OCX_LOGIN_CALLBACK_PORT"));
  const port = Number.isInteger(override) && override > 0 ? override : DEFAULT_PORT;
  const fallback = port === DEFAULT_PORT ? FALLBACK_PORT : port + 2;
  const listen = (p: number) => runtime.listen({ hostname: "127.0.0.1", port: p, handler });
  try {
    return await listen(port);
  } catch (e) {
    if (!(e instanceof AddressInUseError)) throw e;
  }
  await runtime.fetch(`http://127.0.0.1:${port}/cancel`, { signal: AbortSignal.timeout(2000) }).catch(() => {});
  for (let i = 0; i < 10; i++) {
    await sleep(200, signal);
    try {
      return await listen(port);
    } catch (e) {
      if (!(e instanceof AddressInUseError)) throw e;
    }
  }
  try {
    return await listen(fallback);
  } catch (e) {
    if (!(e instanceof AddressInUseError)) throw e;
    throw new OcxError("auth", `Ports ${port} and ${fallback} are both in use; free one of them or run \`ocx login --device-auth\``);
  }
}

/** Opens the URL when someone is at a graphical terminal; a headless machine only prints it. */
function openBrowser(runtime: Runtime, url: string): void {
  if (!runtime.stderr.isTTY) return;
  const opener =
    runtime.platform === "darwin" ? "open" : runtime.env("DISPLAY") || runtime.env("WAYLAND_DISPLAY") ? "xdg-open" : undefined;
  if (!opener) return;
  try {
    const child = runtime.spawn({ argv: [opener, url], cwd: runtime.cwd(), env: runtime.envAll(), stdin: "ignore" });
    child.exited.catch(() => {});
  } catch {
    // no opener installed: the printed URL is enough
  }
}

function page(status: number, title: string, text: string): Response {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<!doctype html><meta charset="utf-8"><title>${esc(title)}</title><h1>${esc(title)}</h1><p>${esc(text)}</p>\n`;
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}
