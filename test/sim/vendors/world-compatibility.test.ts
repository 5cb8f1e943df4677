import { describe, expectTypeOf, it } from 'vitest';
import type { SimWorld } from '../../../src/sim/world/types.js';
import type { VendorWorld } from '../../../src/sim/vendors/source.js';

describe('the sim core and the vendor servers', () => {
  it('the core SimWorld satisfies the VendorWorld the vendor servers read', () => {
    // Checked by the type checker (tsc / eslint); the runtime assertion is trivial.
    expectTypeOf<SimWorld>().toExtend<VendorWorld>();
  });
});
