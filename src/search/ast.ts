import type { FormatId, RunStatus } from '../record/schema.ts';

/** Numeric filter names as typed in a query (`rank:8`, `loss<0.05`). */
export type NumericFilterName = 'rank' | 'alpha' | 'loss' | 'lr' | 'epochs' | 'batch';
/** Exact-value filter names as typed in a query (`base:sd15`, `tag:"blue hair"`). */
export type KeywordFilterName = 'base' | 'model' | 'tag' | 'optimizer' | 'id';
export type DateFilterName = 'since' | 'before';
export type RelativeUnit = 'h' | 'd' | 'w' | 'mo' | 'y';

export type QueryNode = AllNode | AndNode | OrNode | NotNode | TextNode | RangeNode | KeywordNode | FormatNode | StatusNode | DateNode;

/** The empty query: every run. */
export interface AllNode {
  kind: 'all';
}

export interface AndNode {
  kind: 'and';
  children: QueryNode[];
}

export interface OrNode {
  kind: 'or';
  children: QueryNode[];
}

export interface NotNode {
  kind: 'not';
  child: QueryNode;
}

/** A bare word, or a "quoted phrase" when `phrase` is true. */
export interface TextNode {
  kind: 'text';
  text: string;
  phrase: boolean;
}

/** Bounds are inclusive unless named `gt`/`lt`; absent bounds are open. */
export interface RangeNode {
  kind: 'range';
  field: NumericFilterName;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export interface KeywordNode {
  kind: 'keyword';
  field: KeywordFilterName;
  value: string;
}

export interface FormatNode {
  kind: 'format';
  value: FormatId;
}

export interface StatusNode {
  kind: 'status';
  value: RunStatus;
}

/** `since:` is inclusive (created at or after), `before:` exclusive. */
export interface DateNode {
  kind: 'date';
  field: DateFilterName;
  value: { kind: 'ago'; amount: number; unit: RelativeUnit } | { kind: 'at'; iso: string };
}
