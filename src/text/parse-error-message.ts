/**
 * Parser error messages without file content. JSON.parse, `yaml` (prettyErrors) and smol-toml quote the
 * offending source in their messages, and an unquoted secret is exactly the kind of text that fails to
 * parse; messages end up in parse_warnings, so they carry a kind and a line:column only.
 */

/** `invalid JSON at line L column C` (the first offset a strict JSON reader rejects). */
export function jsonErrorMessage(text: string): string {
  const offset = jsonErrorOffset(text);
  if (offset > text.length) {
    return 'invalid JSON';
  }
  if (offset === text.length) {
    return 'invalid JSON: unexpected end of input';
  }
  const { line, column } = lineColumn(text, offset);
  return `invalid JSON at line ${line} column ${column}`;
}

/** `<code> at line L column C` from a `yaml` YAMLError (its `code` and `linePos`), never its message. */
export function yamlErrorMessage(err: unknown): string {
  const e = err as { code?: unknown; linePos?: { line: number; col: number }[] } | null;
  const code = typeof e?.code === 'string' ? e.code.toLowerCase().replaceAll('_', ' ') : 'invalid YAML';
  const pos = Array.isArray(e?.linePos) ? e.linePos[0] : undefined;
  return pos ? `invalid YAML (${code}) at line ${pos.line} column ${pos.col}` : `invalid YAML (${code})`;
}

/** `invalid TOML at line L column C` from smol-toml's TomlError (its `line`/`column`), never its message. */
export function tomlErrorMessage(err: unknown): string {
  const e = err as { line?: unknown; column?: unknown } | null;
  return typeof e?.line === 'number' && typeof e.column === 'number' ? `invalid TOML at line ${e.line} column ${e.column}` : 'invalid TOML';
}

/** 1-based line and column of a UTF-16 offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

// --- internal ---

/** Offset of the first character a JSON reader (with NaN/±Infinity) rejects; `text.length` when input ends early. */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) {
      i++;
    }
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') {
          fail();
        }
        string();
        ws();
        if (text[i] !== ':') {
          fail();
        }
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') {
      string();
      return;
    }
    const literal = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|NaN|-?Infinity)/.exec(text.slice(i, i + 400));
    if (literal === null) {
      fail();
    }
    i += (literal as RegExpExecArray)[0].length;
  };
  const string = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) {
        fail();
      }
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) {
      fail();
    }
    i++;
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length + 1;
  } catch (at) {
    return typeof at === 'number' ? at : 0;
  }
}
