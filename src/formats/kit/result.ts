/** What reading one file gives: its value, or why it could not be read (a message that never quotes the file's content). */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };
