// SseDecoder's skipRun in C, for the Bun adapter (sse-skip.ts): most events of a model's stream
// are deltas that exec never reads, and passing over them in JavaScript makes that loop hot
// enough for the JIT to compile it at full optimisation, which costs more than the stream itself
// on a slow machine. Here it is a loop over bytes, called once per chunk.
//
// No #include: the host may have no C headers (TinyCC compiles this file when the binary has no
// prebuilt object). The two libc functions used are declared here.

extern int memcmp(const void *a, const void *b, unsigned long n);
extern void *memchr(const void *s, int c, unsigned long n);

/**
 * From bytes[at], a line start between events: passes over the whole events before `limit`
 * that are each the line `head` (hlen bytes) and a LF, then lines that begin with "data:", each
 * ending in a LF, then a LF (a blank line). Returns where the first other event starts; adds to
 * *count the events passed over that had data (an event without data is not dispatched).
 */
int ocx_sse_skip(const unsigned char *bytes, int at, int limit, const unsigned char *head, int hlen, int *count) {
  int pos = at, n = 0;
  for (;;) {
    if (pos + hlen >= limit || bytes[pos + hlen] != '\n' || memcmp(bytes + pos, head, hlen) != 0) break;
    int p = pos + hlen + 1, data = 0;
    while (p + 5 <= limit && bytes[p] == 'd' && bytes[p + 1] == 'a' && bytes[p + 2] == 't' && bytes[p + 3] == 'a' && bytes[p + 4] == ':') {
      const unsigned char *lf = memchr(bytes + p + 5, '\n', (unsigned long)(limit - p - 5));
      if (!lf) break; /* (the line goes on past limit: bytes[p] is no blank line) */
      p = (int)(lf - bytes) + 1;
      data = 1;
    }
    if (p >= limit || bytes[p] != '\n') break;
    n += data;
    pos = p + 1;
  }
  *count += n;
  return pos;
}
