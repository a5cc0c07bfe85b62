/**
 * Rows of `width` doubles handed out from shared Float64Arrays of `rows` rows: one allocation for
 * 256 VMs' values instead of one typed array each (a typed array is ~100 bytes before its values,
 * and each backing store costs an allocation V8 accounts for: at 64 rows, `row()` was still 1.5 ms
 * of CPU per second at 1,000 VMs). `row()` gives a row's offset in `slab`, the array current right
 * after the call; a slab lives as long as any row of it is held (at most rows × width × 8 bytes).
 */
export class Float64Slabs {
  slab: Float64Array;
  #next = 0;

  constructor(
    readonly width: number,
    readonly rows = 256,
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
