/**
 * Rows of `width` doubles handed out from shared Float64Arrays of `rows` rows: one allocation for
 * 64 VMs' values instead of one typed array each (a typed array is ~100 bytes before its values).
 * `row()` gives a row's offset in `slab`, the array current right after the call; a slab lives as
 * long as any row of it is held (at most rows × width × 8 bytes).
 */
export class Float64Slabs {
  slab: Float64Array;
  #next = 0;

  constructor(
    readonly width: number,
    readonly rows = 64,
  ) {
    this.slab = new Float64Array(width * rows);
  }

  row(): number {
    if (this.#next === this.rows) {
      this.slab = new Float64Array(this.width * this.rows);
      this.#next = 0;
    }
    return this.#next++ * this.width;
  }
}
