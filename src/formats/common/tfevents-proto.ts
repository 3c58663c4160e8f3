import { shortestFloat32 } from './float32.ts';
import { fixed32ToFloat, fixed64ToDouble, protoFields, protoString } from './protobuf.ts';

/** The parts of a `tensorflow.Event` we use. */
export interface TfEvent {
  /** Seconds since the epoch (Event.wall_time); 0 when absent. */
  wallTime: number;
  /** Event.step; 0 when absent. */
  step: number;
  /** Event.file_version, set on the first record of a file (`brain.Event:2`). */
  fileVersion?: string;
  /** Summary.value entries, in order. */
  values: TfSummaryValue[];
}

/** One `Summary.Value`. `value` is set only when it holds a float scalar (NaN and ±Infinity included); float32 values are their shortest decimal (float32.ts). */
export interface TfSummaryValue {
  tag: string;
  /** SummaryMetadata.plugin_data.plugin_name; TF2 writes it only with the first value of each tag. */
  pluginName?: string;
  value?: number;
}

/** TensorProto.dtype codes (tensorflow/core/framework/types.proto). */
const DT_FLOAT = 1;
const DT_DOUBLE = 2;

/** Decodes an Event record. Throws `ProtobufError` on malformed wire data. */
export function decodeEvent(data: Uint8Array): TfEvent {
  const event: TfEvent = { wallTime: 0, step: 0, values: [] };
  const summaries: Uint8Array[] = [];
  for (const f of protoFields(data)) {
    if (f.field === 1 && f.wireType === 1) {
      event.wallTime = fixed64ToDouble(f.bytes);
    } else if (f.field === 2 && f.wireType === 0) {
      event.step = f.value;
    } else if (f.field === 3 && f.wireType === 2) {
      event.fileVersion = protoString(f.bytes);
    } else if (f.field === 5 && f.wireType === 2) {
      summaries.push(f.bytes);
    }
  }
  for (const summary of summaries) {
    for (const f of protoFields(summary)) {
      if (f.field === 1 && f.wireType === 2) {
        event.values.push(decodeValue(f.bytes));
      }
    }
  }
  return event;
}

// --- internal ---

function decodeValue(bytes: Uint8Array): TfSummaryValue {
  const out: TfSummaryValue = { tag: '' };
  let tensor: Uint8Array | undefined;
  for (const f of protoFields(bytes)) {
    if (f.field === 1 && f.wireType === 2) {
      out.tag = protoString(f.bytes);
    } else if (f.field === 2 && f.wireType === 5) {
      out.value = float32Of(f.bytes);
    } else if (f.field === 8 && f.wireType === 2) {
      tensor = f.bytes;
    } else if (f.field === 9 && f.wireType === 2) {
      const name = pluginName(f.bytes);
      if (name !== undefined) {
        out.pluginName = name;
      }
    }
  }
  if (out.value === undefined && tensor !== undefined) {
    const value = scalarFromTensor(tensor);
    if (value !== undefined) {
      out.value = value;
    }
  }
  return out;
}

function pluginName(metadata: Uint8Array): string | undefined {
  let name: string | undefined;
  for (const f of protoFields(metadata)) {
    if (f.field === 1 && f.wireType === 2) {
      for (const p of protoFields(f.bytes)) {
        if (p.field === 1 && p.wireType === 2) {
          name = protoString(p.bytes);
        }
      }
    }
  }
  return name;
}

/** The value of a one-element DT_FLOAT/DT_DOUBLE tensor, else undefined (text, histograms, hparams…). */
function scalarFromTensor(bytes: Uint8Array): number | undefined {
  let dtype = 0;
  let elements = 1;
  let content: Uint8Array | undefined;
  let first: number | undefined;
  for (const f of protoFields(bytes)) {
    if (f.field === 1 && f.wireType === 0) {
      dtype = f.value;
    } else if (f.field === 2 && f.wireType === 2) {
      elements = shapeElements(f.bytes);
    } else if (f.field === 4 && f.wireType === 2) {
      content = f.bytes;
    } else if (f.field === 5 && first === undefined) {
      first = firstFixed(f.wireType, f.wireType === 0 ? undefined : f.bytes, 4);
    } else if (f.field === 6 && first === undefined) {
      first = firstFixed(f.wireType, f.wireType === 0 ? undefined : f.bytes, 8);
    }
  }
  if (elements !== 1 || (dtype !== DT_FLOAT && dtype !== DT_DOUBLE)) {
    return undefined;
  }
  const width = dtype === DT_FLOAT ? 4 : 8;
  if (content !== undefined && content.length > 0) {
    if (content.length !== width) {
      return undefined;
    }
    return width === 4 ? float32Of(content) : fixed64ToDouble(content);
  }
  return first;
}

/** float_val (width 4) / double_val (width 8): packed (wire type 2) or one unpacked element (5 / 1). */
function firstFixed(wireType: number, bytes: Uint8Array | undefined, width: 4 | 8): number | undefined {
  if (bytes === undefined || bytes.length < width) {
    return undefined;
  }
  const unpacked = width === 4 ? 5 : 1;
  if (wireType !== 2 && wireType !== unpacked) {
    return undefined;
  }
  return width === 4 ? float32Of(bytes) : fixed64ToDouble(bytes);
}

/** Product of TensorShapeProto dim sizes; -1 when the rank or a size is unknown. */
function shapeElements(shape: Uint8Array): number {
  let elements = 1;
  for (const f of protoFields(shape)) {
    if (f.field === 3 && f.wireType === 0 && f.value !== 0) {
      return -1;
    }
    if (f.field === 2 && f.wireType === 2) {
      let size = 0;
      for (const d of protoFields(f.bytes)) {
        if (d.field === 1 && d.wireType === 0) {
          size = d.value;
        }
      }
      if (size < 0) {
        return -1;
      }
      elements *= size;
    }
  }
  return elements;
}

/** A float32 field as the shortest decimal that reads back as it (`0.06`, not `0.05999999865889549`). */
function float32Of(bytes: Uint8Array): number {
  return shortestFloat32(fixed32ToFloat(bytes));
}
