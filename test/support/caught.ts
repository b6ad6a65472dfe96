// What a synchronous call throws; a test fails when it does not throw.
export function caught(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}
