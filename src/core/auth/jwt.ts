// Reading (never verifying) the JWTs of a ChatGPT sign-in: the access token's expiry and the
// id token's account claims (contract §4.1).

const AUTH_CLAIMS = "https://api.openai.com/auth";
const PROFILE_CLAIMS = "https://api.openai.com/profile";

export function base64UrlDecode(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function base64UrlEncode(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The payload of a JWT, or undefined when the token is not one. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims = JSON.parse(new TextDecoder().decode(base64UrlDecode(parts[1])));
    return claims && typeof claims === "object" && !Array.isArray(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** The `exp` claim in milliseconds since the epoch, if the token has one. */
export function jwtExpiryMs(token: string): number | undefined {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
}

export interface IdTokenInfo {
  email?: string;
  plan?: string;
  accountId?: string;
}

export function idTokenInfo(idToken: string): IdTokenInfo {
  const claims = jwtClaims(idToken) ?? {};
  const auth = record(claims[AUTH_CLAIMS]);
  const str = (x: unknown) => (typeof x === "string" && x ? x : undefined);
  return {
    email: str(claims.email) ?? str(record(claims[PROFILE_CLAIMS]).email),
    plan: str(auth.chatgpt_plan_type),
    accountId: str(auth.chatgpt_account_id),
  };
}

const record = (x: unknown): Record<string, unknown> =>
  x && typeof x === "object" && !Array.isArray(x) ? (x as Record<string, unknown>) : {};
