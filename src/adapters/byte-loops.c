// What the model stream's reader does in C on Bun (byte-loops.ts): loops over every byte of a
// response that JavaScript would run hot enough for the JIT to compile at full optimisation,
// which costs more than the stream itself on a slow machine, and copies JavaScript makes into
// memory first touched. Each is called once per body chunk or once per large event.
//   - ocx_sse_skip: SseDecoder's skipRun, the runs of unread events (a stream is mostly deltas);
//   - ocx_json_long_strings and ocx_json_unescape: a large event's JSON read without decoding
//     and parsing its long strings as JavaScript strings (see model/event-json.ts).
//
// No #include: the host may have no C headers (TinyCC compiles this file when the binary has no
// prebuilt object). The libc functions used are declared here.

extern int memcmp(const void *a, const void *b, unsigned long n);
extern void *memchr(const void *s, int c, unsigned long n);
extern void *memcpy(void *dst, const void *src, unsigned long n);

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

/**
 * The string values of the JSON text b[0, len) whose contents (the bytes between the quotes) are
 * at least min_long bytes: where each one's contents start and end, in ranges[2k] and
 * ranges[2k + 1], for the first max_ranges of them. Returns how many there are, or -1 when a
 * string is not closed. Only quotes are looked for (a quote after an odd number of backslashes
 * is inside a string); a string followed by a colon (blanks between) is a key, never counted.
 */
int ocx_json_long_strings(const unsigned char *b, int len, int min_long, int *ranges, int max_ranges) {
  int n = 0, i = 0;
  for (;;) {
    const unsigned char *q = memchr(b + i, '"', (unsigned long)(len - i));
    if (!q) return n;
    int open = (int)(q - b), close = open + 1;
    for (;;) {
      const unsigned char *c = memchr(b + close, '"', (unsigned long)(len - close));
      if (!c) return -1;
      close = (int)(c - b);
      int k = close - 1;
      while (k > open && b[k] == '\\') k--;
      if ((close - 1 - k) % 2 == 0) break;
      close++;
    }
    int after = close + 1;
    while (after < len && (b[after] == ' ' || b[after] == '\t' || b[after] == '\n' || b[after] == '\r')) after++;
    int key = after < len && b[after] == ':';
    if (!key && close - open - 1 >= min_long) {
      if (n < max_ranges) {
        ranges[2 * n] = open + 1;
        ranges[2 * n + 1] = close;
      }
      n++;
    }
    i = close + 1;
  }
}

static int hex4(const unsigned char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int c = s[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * The contents of a JSON string (the bytes between its quotes) with its escapes undone, as
 * UTF-8, written to dst (room for len bytes: never more is needed). Returns the length written,
 * or -1 when the contents are not those of a JSON string (a control character, an unknown or
 * cut escape) or hold a \u escape of a surrogate without its pair (which UTF-8 cannot hold).
 * Other bytes are copied as they are (invalid UTF-8 too: decoding makes it U+FFFD, as it would
 * the whole text).
 */
int ocx_json_unescape(const unsigned char *s, int len, unsigned char *dst) {
  int o = 0, i = 0;
  while (i < len) {
    int start = i;
    while (i < len && s[i] != '\\') {
      if (s[i] < 0x20) return -1;
      i++;
    }
    memcpy(dst + o, s + start, (unsigned long)(i - start));
    o += i - start;
    if (i == len) break;
    if (i + 1 >= len) return -1;
    int c = s[i + 1];
    i += 2;
    switch (c) {
      case '"': dst[o++] = '"'; break;
      case '\\': dst[o++] = '\\'; break;
      case '/': dst[o++] = '/'; break;
      case 'b': dst[o++] = 8; break;
      case 'f': dst[o++] = 12; break;
      case 'n': dst[o++] = 10; break;
      case 'r': dst[o++] = 13; break;
      case 't': dst[o++] = 9; break;
      case 'u': {
        if (i + 4 > len) return -1;
        int cp = hex4(s + i);
        if (cp < 0) return -1;
        i += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff) return -1;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          if (i + 6 > len || s[i] != '\\' || s[i + 1] != 'u') return -1;
          int lo = hex4(s + i + 2);
          if (lo < 0xdc00 || lo > 0xdfff) return -1;
          i += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp < 0x80) dst[o++] = (unsigned char)cp;
        else if (cp < 0x800) {
          dst[o++] = (unsigned char)(0xc0 | (cp >> 6));
          dst[o++] = (unsigned char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
          dst[o++] = (unsigned char)(0xe0 | (cp >> 12));
          dst[o++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
          dst[o++] = (unsigned char)(0x80 | (cp & 0x3f));
        } else {
          dst[o++] = (unsigned char)(0xf0 | (cp >> 18));
          dst[o++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
          dst[o++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
          dst[o++] = (unsigned char)(0x80 | (cp & 0x3f));
        }
        break;
      }
      default: return -1;
    }
  }
  return o;
}
