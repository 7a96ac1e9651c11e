# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled core of :mod:`doc_checker.nlp.matcher`: token patterns over lexeme predicate bitsets.

Why compiled: matching the ruleset's token patterns was the largest per-note cost left in
Python (a dict append per token and predicate, then a recursive search per candidate start).
Here a document is one array of lexeme rows; each row has a bitset of the predicates that hold
for that lexeme (computed once per vocabulary entry, in Python, by ``PredicateTable``). The
semantics are exactly those of the pure-Python path in ``matcher.py`` (spaCy's Matcher: every
(start, end) that matches), which tests check against this module on every fixture.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

import numpy as np

cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil

cdef int32_t INF = 1 << 30


cdef class Patterns:
    """The patterns of one FastMatcher, flattened into int32 arrays.

    Built from ``(key, elements, plan)`` triples: ``elements`` a sequence of
    (pred or -1, sent_start -1/0/1, lo, hi or -1 for unbounded); ``plan`` None (a wildcard may
    start the pattern: every token is a candidate) or (anchor, next_pred or -1, next_dist,
    [(optional pred, dist)], [required preds]), distances capped at INF.
    """

    cdef int32_t[::1] key, el_off, el_pred, el_sent, el_lo, el_hi
    cdef int32_t[::1] anchor, next_pred, next_dist, opt_off, opt_pred, opt_dist, req_off, req_pred
    cdef readonly int n_patterns

    def __init__(self, patterns):
        keys, el_off, el_pred, el_sent, el_lo, el_hi = [], [0], [], [], [], []
        anchor, next_pred, next_dist = [], [], []
        opt_off, opt_pred, opt_dist, req_off, req_pred = [0], [], [], [0], []
        for key, elements, plan in patterns:
            keys.append(key)
            for pred, sent, lo, hi in elements:
                el_pred.append(pred)
                el_sent.append(sent)
                el_lo.append(lo)
                el_hi.append(hi)
            el_off.append(len(el_pred))
            if plan is None:
                anchor.append(-1)
                next_pred.append(-1)
                next_dist.append(0)
            else:
                a, npred, ndist, optional, required = plan
                anchor.append(a)
                next_pred.append(npred)
                next_dist.append(min(ndist, INF))
                for p, d in optional:
                    opt_pred.append(p)
                    opt_dist.append(min(d, INF))
                req_pred.extend(required)
            opt_off.append(len(opt_pred))
            req_off.append(len(req_pred))
        as_array = lambda values: np.asarray(values if values else [0], dtype=np.int32)
        self.n_patterns = len(keys)
        self.key = as_array(keys)
        self.el_off, self.el_pred, self.el_sent = as_array(el_off), as_array(el_pred), as_array(el_sent)
        self.el_lo, self.el_hi = as_array(el_lo), as_array(el_hi)
        self.anchor, self.next_pred, self.next_dist = as_array(anchor), as_array(next_pred), as_array(next_dist)
        self.opt_off, self.opt_pred, self.opt_dist = as_array(opt_off), as_array(opt_pred), as_array(opt_dist)
        self.req_off, self.req_pred = as_array(req_off), as_array(req_pred)


def rows_of(const uint64_t[::1] orths, dict row_of):
    """Lexeme rows of a doc's tokens (``row_of``: orth -> row), -1 where a lexeme is new; and
    how many are new."""
    cdef Py_ssize_t i, n = orths.shape[0], missing = 0
    out = np.empty(n, dtype=np.int32)
    cdef int32_t[::1] rows = out
    cdef object row
    for i in range(n):
        row = row_of.get(orths[i])
        if row is None:
            rows[i] = -1
            missing += 1
        else:
            rows[i] = <int32_t>row
    return out, missing


cdef inline bint _holds(const uint64_t[:, ::1] bits, const int32_t[::1] rows, int32_t pred, int64_t pos) nogil:
    return (bits[rows[pos], pred >> 6] >> (pred & 63)) & 1


cdef inline int64_t _first_after(const int32_t* pos, int64_t lo, int64_t hi, int64_t value) nogil:
    """Index of the first position > value in pos[lo:hi] (sorted), or hi."""
    cdef int64_t mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if pos[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def match(Patterns pats, const int32_t[::1] rows, const uint64_t[:, ::1] bits, const uint8_t[::1] sent,
          int n_preds):
    """Every (key, start, end) where a pattern matches the doc whose tokens have ``rows``.

    ``bits[row]``: the predicates that hold for a lexeme row; ``sent[i]``: 1 where token i
    starts a sentence (token 0 always does). The result's order is unspecified.
    """
    cdef int64_t n = rows.shape[0]
    out = []
    if n == 0 or pats.n_patterns == 0:
        return out
    cdef int64_t words = bits.shape[1]
    cdef int64_t t, w, p, total = 0, k, i, j, q, lo_i, c, n_cand, n_cur, n_nxt, count, pos, e, start
    cdef uint64_t x
    cdef int32_t pred, want, elo, ehi, a, npred, ndist, dist
    cdef int64_t gen = 0
    # predicate -> sorted token positions (counting sort over one pass of the tokens)
    cdef int64_t* first = <int64_t*> malloc((n_preds + 1) * sizeof(int64_t))
    cdef int64_t* fill = <int64_t*> malloc((n_preds + 1) * sizeof(int64_t))
    cdef int32_t* positions = NULL
    cdef int32_t* cand = <int32_t*> malloc((n + 1) * sizeof(int32_t))
    cdef int32_t* cur = <int32_t*> malloc((n + 1) * sizeof(int32_t))
    cdef int32_t* nxt = <int32_t*> malloc((n + 1) * sizeof(int32_t))
    cdef int64_t* mark = <int64_t*> malloc((n + 1) * sizeof(int64_t))
    cdef int32_t* tmp
    try:
        if first == NULL or fill == NULL or cand == NULL or cur == NULL or nxt == NULL or mark == NULL:
            raise MemoryError()
        memset(first, 0, (n_preds + 1) * sizeof(int64_t))
        memset(mark, 0, (n + 1) * sizeof(int64_t))
        with nogil:
            for t in range(n):
                for w in range(words):
                    x = bits[rows[t], w]
                    while x:
                        p = w * 64 + __builtin_ctzll(x)
                        first[p + 1] += 1
                        total += 1
                        x &= x - 1
            for p in range(n_preds):
                first[p + 1] += first[p]
                fill[p] = first[p]
        positions = <int32_t*> malloc((total + 1) * sizeof(int32_t))
        if positions == NULL:
            raise MemoryError()
        with nogil:
            for t in range(n):
                for w in range(words):
                    x = bits[rows[t], w]
                    while x:
                        p = w * 64 + __builtin_ctzll(x)
                        positions[fill[p]] = <int32_t>t
                        fill[p] += 1
                        x &= x - 1

        for k in range(pats.n_patterns):
            # every required predicate must occur somewhere
            for i in range(pats.req_off[k], pats.req_off[k + 1]):
                pred = pats.req_pred[i]
                if first[pred + 1] == first[pred]:
                    break
            else:
                i = -1
            if i != -1:
                continue
            # candidate starts
            gen += 1
            n_cand = 0
            a = pats.anchor[k]
            if a < 0:
                for t in range(n):
                    cand[n_cand] = <int32_t>t
                    n_cand += 1
            else:
                npred = pats.next_pred[k]
                ndist = pats.next_dist[k]
                for i in range(first[a], first[a + 1]):
                    t = positions[i]
                    if npred >= 0:
                        # the next required element must start within ndist tokens after t
                        j = _first_after(positions, first[npred], first[npred + 1], t)
                        if j == first[npred + 1] or positions[j] > t + ndist:
                            continue
                    cand[n_cand] = <int32_t>t
                    mark[t] = gen
                    n_cand += 1
                c = n_cand  # the anchors; optional elements before them add earlier starts
                for i in range(pats.opt_off[k], pats.opt_off[k + 1]):
                    pred = pats.opt_pred[i]
                    dist = pats.opt_dist[i]
                    for j in range(first[pred], first[pred + 1]):
                        q = positions[j]
                        if mark[q] == gen:
                            continue
                        # some anchor a with q < a <= q + dist (cand[:c]: the sorted anchors)
                        lo_i = _first_after(cand, 0, c, q)
                        if lo_i < c and cand[lo_i] <= q + dist:
                            cand[n_cand] = <int32_t>q
                            mark[q] = gen
                            n_cand += 1
            # expand each candidate through the elements (a set of positions per step)
            for c in range(n_cand):
                start = cand[c]
                cur[0] = <int32_t>start
                n_cur = 1
                for e in range(pats.el_off[k], pats.el_off[k + 1]):
                    pred = pats.el_pred[e]
                    want = pats.el_sent[e]
                    elo = pats.el_lo[e]
                    ehi = pats.el_hi[e]
                    gen += 1
                    n_nxt = 0
                    for i in range(n_cur):
                        pos = cur[i]
                        if elo == 0 and mark[pos] != gen:
                            mark[pos] = gen
                            nxt[n_nxt] = <int32_t>pos
                            n_nxt += 1
                        count = 0
                        p = pos
                        while (ehi < 0 or count < ehi) and p < n \
                                and (pred < 0 or _holds(bits, rows, pred, p)) \
                                and (want < 0 or (sent[p] != 0) == (want != 0)):
                            p += 1
                            count += 1
                            if count >= elo:
                                if mark[p] == gen:
                                    if ehi < 0:
                                        break  # an earlier scan already went on from here
                                    continue
                                mark[p] = gen
                                nxt[n_nxt] = <int32_t>p
                                n_nxt += 1
                    tmp = cur
                    cur = nxt
                    nxt = tmp
                    n_cur = n_nxt
                    if n_cur == 0:
                        break
                for i in range(n_cur):
                    if cur[i] > start:
                        out.append((pats.key[k], start, cur[i]))
        return out
    finally:
        free(first)
        free(fill)
        free(positions)
        free(cand)
        free(cur)
        free(nxt)
        free(mark)


def longest_first(matches):
    """Non-overlapping matches, longest first then leftmost then lowest key (as
    ``spacy.util.filter_spans``), sorted by (start, end). ``matches``: (key, start, end)."""
    if not matches:
        return []
    ordered = sorted({(m[1] - m[2], m[1], m[0], m[2]) for m in matches})
    cdef Py_ssize_t size = 0
    cdef Py_ssize_t i, s, e
    for item in ordered:
        e = item[3]
        if e > size:
            size = e
    taken_buf = bytearray(size + 1)
    cdef unsigned char[::1] taken = taken_buf
    kept = []
    for neg, start, key, end in ordered:
        s = start
        e = end
        for i in range(s, e):
            if taken[i]:
                break
        else:
            for i in range(s, e):
                taken[i] = 1
            kept.append((start, end, key))
    kept.sort()
    return [(key, start, end) for start, end, key in kept]
