import { describe, expect, it } from 'vitest';
import { lacksFields } from '../../../src/es/indices.ts';
import { runsMappings } from '../../../src/es/mappings.ts';

describe('es/indices lacksFields', () => {
  const wanted = runsMappings({ cjk: false, ik: false }).properties ?? {};

  it('finds nothing missing in the mapping an index was created with', () => {
    expect(lacksFields(wanted, structuredClone(wanted))).toBe(false);
  });

  it('finds a missing field, object property or sub-field', () => {
    const { loss_min: _dropped, ...withoutField } = structuredClone(wanted);
    const withoutProperty = structuredClone(wanted) as Record<string, { properties?: Record<string, unknown>; fields?: Record<string, unknown> }>;
    delete withoutProperty.status_inputs?.properties?.caveat;
    const withoutSubField = structuredClone(wanted) as Record<string, { fields?: Record<string, unknown> }>;
    delete withoutSubField.base_model?.fields?.text;

    expect(lacksFields(wanted, withoutField)).toBe(true);
    expect(lacksFields(wanted, withoutProperty as never)).toBe(true);
    expect(lacksFields(wanted, withoutSubField as never)).toBe(true);
  });
});
