/** The linked-elsewhere rule, pure: only names outside the run keep a pyc from being shared. */
import { describe, expect, it } from 'vitest';
import { countNames, linkedElsewhere } from '../../src/fs/linked-elsewhere.js';

describe('linkedElsewhere', () => {
  it('a file with one link, or with all its links in the run, is shared as usual', () => {
    expect(linkedElsewhere({ nlink: 1, namesInRun: 1, isStoreObject: false })).toBe(false);
    expect(linkedElsewhere({ nlink: 2, namesInRun: 2, isStoreObject: false })).toBe(false); // two cp -al copies scanned together
    expect(linkedElsewhere({ nlink: 3, namesInRun: 3, isStoreObject: false })).toBe(false);
  });

  it('a file with names outside the run is left alone', () => {
    expect(linkedElsewhere({ nlink: 2, namesInRun: 1, isStoreObject: false })).toBe(true); // conda: the package cache holds the other name
    expect(linkedElsewhere({ nlink: 5, namesInRun: 3, isStoreObject: false })).toBe(true);
    expect(linkedElsewhere({ nlink: 2, namesInRun: 0, isStoreObject: false })).toBe(true); // the file itself always counts
  });

  it("a store object's other names are the store's and pycstore's own links", () => {
    expect(linkedElsewhere({ nlink: 9, namesInRun: 1, isStoreObject: true })).toBe(false);
  });

  it('counts the names per inode among items with more than one link', () => {
    const names = countNames([
      { inode: '1:10', nlink: 2 },
      { inode: '1:10', nlink: 2 },
      { inode: '1:11', nlink: 1 },
      { inode: '1:12', nlink: 3 },
      { nlink: 2 }, // a pyc --fill will create: no inode yet
    ]);
    expect([...names]).toEqual([
      ['1:10', 2],
      ['1:12', 1],
    ]);
  });
});
