// The login commands with their config loaded and Ctrl-C wired: what src/cli/login.ts calls.
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { abortOnInterrupt } from "../errors.ts";
import type { Runtime } from "../runtime.ts";
import { checkedCodexHome } from "../workspace.ts";
import { loginWithBrowser } from "./browser-login.ts";
import { loginWithDeviceCode } from "./device-code.ts";
import * as basic from "./login.ts";

async function setup(runtime: Runtime, overrides: string[]): Promise<{ config: Config; home: string }> {
  const home = await checkedCodexHome(runtime);
  return { config: await loadConfig(runtime, { codexHome: home, overrides }), home };
}

/** Runs an interactive flow that Ctrl-C (or SIGTERM) cancels without writing anything. */
async function interruptible(runtime: Runtime, fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  const off = abortOnInterrupt(runtime, controller, () => "Login cancelled");
  try {
    return await fn(controller.signal);
  } catch (e) {
    throw controller.signal.aborted ? controller.signal.reason : e;
  } finally {
    off();
  }
}

export async function apiKeyLogin(runtime: Runtime, overrides: string[]): Promise<number> {
  const { config, home } = await setup(runtime, overrides);
  return basic.loginWithApiKey(runtime, config, home);
}

export async function deviceLogin(runtime: Runtime, overrides: string[]): Promise<number> {
  const { config, home } = await setup(runtime, overrides);
  return interruptible(runtime, (signal) => loginWithDeviceCode(runtime, config, home, signal));
}

export async function browserLogin(runtime: Runtime, overrides: string[]): Promise<number> {
  const { config, home } = await setup(runtime, overrides);
  return interruptible(runtime, (signal) => loginWithBrowser(runtime, config, home, signal));
}

export async function loginStatus(runtime: Runtime, overrides: string[], json: boolean): Promise<number> {
  const { home } = await setup(runtime, overrides);
  return basic.loginStatus(runtime, home, json);
}

export async function logout(runtime: Runtime, overrides: string[]): Promise<number> {
  const { config, home } = await setup(runtime, overrides);
  return basic.logout(runtime, config, home);
}
