// Values built when first needed. A compiled binary runs module code cold (interpreted): every
// schema built at load costs start-up time even when the run never uses it.

/** `make()`, made on the first call and kept. */
export function once<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}
