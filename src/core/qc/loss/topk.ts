// torch.topk's indices exactly as PyTorch's CPU kernel returns them, ties included: it fills
// (value, index) pairs in order and runs libstdc++'s std::partial_sort when k * 64 <= n, else
// std::nth_element and std::sort of the first k - 1. The losses' assignments (YOLOv7's dynamic-k
// choice between two candidates of one cell, which cost exactly the same; TAL's top-10) depend on
// that order, so it is reproduced step for step (checked against torch 1.13 in test/qc/).

type Pair = [value: number, index: number];
type Comp = (a: Pair, b: Pair) => boolean;

function insertionSort(q: Pair[], first: number, last: number, comp: Comp): void {
  if (first === last) return;
  for (let i = first + 1; i < last; i++) {
    const val = q[i];
    if (comp(val, q[first])) {
      for (let j = i; j > first; j--) q[j] = q[j - 1];
      q[first] = val;
    } else {
      let j = i;
      while (comp(val, q[j - 1])) {
        q[j] = q[j - 1];
        j--;
      }
      q[j] = val;
    }
  }
}

const swap = (q: Pair[], i: number, j: number) => {
  const t = q[i];
  q[i] = q[j];
  q[j] = t;
};

function moveMedianToFirst(q: Pair[], r: number, a: number, b: number, c: number, comp: Comp): void {
  if (comp(q[a], q[b])) {
    if (comp(q[b], q[c])) swap(q, r, b);
    else if (comp(q[a], q[c])) swap(q, r, c);
    else swap(q, r, a);
  } else if (comp(q[a], q[c])) swap(q, r, a);
  else if (comp(q[b], q[c])) swap(q, r, c);
  else swap(q, r, b);
}

function unguardedPartition(q: Pair[], first: number, last: number, pivot: number, comp: Comp): number {
  for (;;) {
    while (comp(q[first], q[pivot])) first++;
    last--;
    while (comp(q[pivot], q[last])) last--;
    if (!(first < last)) return first;
    swap(q, first, last);
    first++;
  }
}

function pushHeap(q: Pair[], base: number, hole: number, top: number, val: Pair, comp: Comp): void {
  let parent = (hole - 1) >> 1;
  while (hole > top && comp(q[base + parent], val)) {
    q[base + hole] = q[base + parent];
    hole = parent;
    parent = (hole - 1) >> 1;
  }
  q[base + hole] = val;
}

function adjustHeap(q: Pair[], base: number, hole: number, len: number, val: Pair, comp: Comp): void {
  const top = hole;
  let child = hole;
  while (child < (len - 1) >> 1) {
    child = 2 * (child + 1);
    if (comp(q[base + child], q[base + child - 1])) child--;
    q[base + hole] = q[base + child];
    hole = child;
  }
  if ((len & 1) === 0 && child === (len - 2) >> 1) {
    child = 2 * (child + 1);
    q[base + hole] = q[base + child - 1];
    hole = child - 1;
  }
  pushHeap(q, base, hole, top, val, comp);
}

function popHeap(q: Pair[], first: number, last: number, result: number, comp: Comp): void {
  const val = q[result];
  q[result] = q[first];
  adjustHeap(q, first, 0, last - first, val, comp);
}

function heapSelect(q: Pair[], first: number, middle: number, last: number, comp: Comp): void {
  const len = middle - first;
  if (len >= 2) for (let parent = (len - 2) >> 1; parent >= 0; parent--) adjustHeap(q, first, parent, len, q[first + parent], comp);
  for (let i = middle; i < last; i++) if (comp(q[i], q[first])) popHeap(q, first, middle, i, comp);
}

function nthElement(q: Pair[], nth: number, comp: Comp): void {
  let first = 0,
    last = q.length;
  let depth = 2 * Math.floor(Math.log2(last - first));
  while (last - first > 3) {
    if (depth === 0) {
      heapSelect(q, first, nth + 1, last, comp);
      swap(q, first, nth);
      return;
    }
    depth--;
    const mid = first + ((last - first) >> 1);
    moveMedianToFirst(q, first, first + 1, mid, last - 1, comp);
    const cut = unguardedPartition(q, first + 1, last, first, comp);
    if (cut <= nth) first = cut;
    else last = cut;
  }
  insertionSort(q, first, last, comp);
}

/** Indices of the k largest (or smallest) values, in torch.topk's order (sorted=True). */
export function torchTopk(values: ArrayLike<number>, k: number, largest: boolean): number[] {
  const q: Pair[] = Array.from({ length: values.length }, (_, i) => [values[i], i]);
  if (k <= 0) return [];
  const comp: Comp = largest ? (a, b) => a[0] > b[0] : (a, b) => a[0] < b[0];
  if (k * 64 <= q.length) {
    heapSelect(q, 0, k, q.length, comp); // std::partial_sort: heap select, then sort_heap
    for (let last = k; last > 1;) {
      last--;
      popHeap(q, 0, last, last, comp);
    }
  } else {
    nthElement(q, k - 1, comp);
    if (k - 1 > 16) throw new Error('torchTopk: sorting more than 16 elements is not reproduced');
    insertionSort(q, 0, k - 1, comp); // std::sort of <= 16 elements is an insertion sort
  }
  return q.slice(0, k).map((p) => p[1]);
}
