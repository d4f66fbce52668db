/**
 * Maps repeated strings (frameworks, hosts, error codes, paths) to small
 * integers so a million requests cost a typed-array slot each, not a string.
 * Index 0 is reserved for null. Past `limit` distinct values, the rest share
 * one "(other)" index: an unexpected flood of distinct values must not blow
 * the memory budget or overflow the column type.
 */
export class Interner {
  private readonly values: (string | null)[] = [null];
  private readonly index = new Map<string, number>();
  private otherIndex = 0;

  constructor(private readonly limit = 65_535) {}

  id(value: string | null | undefined): number {
    if (value === null || value === undefined) return 0;
    const known = this.index.get(value);
    if (known !== undefined) return known;
    if (this.values.length >= this.limit) {
      if (this.otherIndex === 0) {
        this.otherIndex = this.values.length;
        this.values.push('(other)');
      }
      return this.otherIndex;
    }
    const id = this.values.length;
    this.values.push(value);
    this.index.set(value, id);
    return id;
  }

  value(id: number): string | null {
    return this.values[id] ?? null;
  }

  get size(): number {
    return this.values.length;
  }
}
