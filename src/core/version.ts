// The ocx version; build.ts checks it against package.json.
export const OCX_VERSION = "0.1.0";
