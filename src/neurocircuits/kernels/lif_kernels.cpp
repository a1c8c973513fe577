// Compiled CPU kernels of the fused LIF layer and the event-driven linear + LIF layer.
//
// The equations are those of neurocircuits/training/bptt.py (fused LIF / ALIF time loop and
// its adjoint) and neurocircuits/training/linear_lif.py (linear layer fused into a LIF layer,
// event-driven over the non-zero inputs). Built by neurocircuits/kernels/native.py with the
// system C++ compiler and called through ctypes on NumPy views of torch tensors.
//
// Threading: OpenMP. Torch's CPU build loads its OpenMP runtime (libgomp.so.1) first, so this
// library binds to that same runtime and its parallel loops run on torch's worker threads.
// Work is cut into a fixed number of blocks chosen by the caller, each block computed by one
// thread in a fixed order, so the numbers do not depend on the thread count.
//
// Every function has a float32 (_f32) and a float64 (_f64) instance; arithmetic stays in
// that type. Integer arrays: row pointers int64, input indices int32.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

typedef int64_t i64;
typedef int32_t i32;

// positions in the per-call constant vector prm (same layout as linear_lif._constants)
enum { THR = 0, A_SUB, A_ZERO, ND, KW, C1, C2 };

namespace {

inline i64 block_lo(i64 c, i64 n, i64 nb) { return c * n / nb; }

// acc[0:N] += sum_{k <= e < k1} value[e] * M[index[e], 0:N] (M: rows of N values); four rows
// per pass over acc. Not inlined: inlined into the forward loop, g++ 12 vectorised it with
// gathers and ran 3x slower.
template <class F>
__attribute__((noinline)) void add_rows(F* __restrict acc, const F* __restrict M, i64 N, const i32* __restrict index,
                     const F* __restrict value, i64 k, i64 k1) {
    for (; k + 4 <= k1; k += 4) {
        const F* __restrict m0 = M + (i64)index[k] * N;
        const F* __restrict m1 = M + (i64)index[k + 1] * N;
        const F* __restrict m2 = M + (i64)index[k + 2] * N;
        const F* __restrict m3 = M + (i64)index[k + 3] * N;
        const F x0 = value[k], x1 = value[k + 1], x2 = value[k + 2], x3 = value[k + 3];
        for (i64 q = 0; q < N; ++q) acc[q] += x0 * m0[q] + x1 * m1[q] + x2 * m2[q] + x3 * m3[q];
    }
    for (; k < k1; ++k) {
        const F* __restrict m0 = M + (i64)index[k] * N;
        const F x0 = value[k];
        for (i64 q = 0; q < N; ++q) acc[q] += x0 * m0[q];
    }
}

// P[index[k]] += value[k] * d for k < m (P: rows of N values; d: N values).
template <class F>
inline void add_outer_rows(F* __restrict P, i64 N, const i32* __restrict index, const F* __restrict value,
                           i64 m, const F* __restrict d) {
    for (i64 k = 0; k < m; ++k) {
        F* __restrict w = P + (i64)index[k] * N;
        const F xv = value[k];
        for (i64 q = 0; q < N; ++q) w[q] += xv * d[q];
    }
}

template <class F>
inline void add_outer(F* __restrict P, i64 N, const i32* __restrict index, const F* __restrict value, i64 m,
                      const F* __restrict d) {
    add_outer_rows(P, N, index, value, m, d);
}

#if defined(__AVX512F__)
// A row of at most 16 float32 values is one masked vector.
template <>
inline void add_outer<float>(float* __restrict P, i64 N, const i32* __restrict index,
                             const float* __restrict value, i64 m, const float* __restrict d) {
    if (N > 16) {
        add_outer_rows(P, N, index, value, m, d);
        return;
    }
    const __mmask16 mk = (__mmask16)((1u << N) - 1u);
    const __m512 dv = _mm512_maskz_loadu_ps(mk, d);
    for (i64 k = 0; k < m; ++k) {
        float* w = P + (i64)index[k] * N;
        const __m512 acc = _mm512_fmadd_ps(_mm512_set1_ps(value[k]), dv, _mm512_maskz_loadu_ps(mk, w));
        _mm512_mask_storeu_ps(w, mk, acc);
    }
}
#endif

// acc[0:N] += sum_{k < m} value[k] * M[index[k], 0:N] for a narrow M (a few columns): add_rows,
// or with AVX-512 and at most 16 float32 columns one masked vector per row.
template <class F>
inline void add_rows_narrow(F* __restrict acc, const F* __restrict M, i64 N, const i32* __restrict index,
                            const F* __restrict value, i64 m) {
    add_rows(acc, M, N, index, value, 0, m);
}

#if defined(__AVX512F__)
template <>
inline void add_rows_narrow<float>(float* __restrict acc, const float* __restrict M, i64 N,
                                   const i32* __restrict index, const float* __restrict value, i64 m) {
    if (N > 16) {
        add_rows(acc, M, N, index, value, 0, m);
        return;
    }
    const __mmask16 mk = (__mmask16)((1u << N) - 1u);
    __m512 a = _mm512_maskz_loadu_ps(mk, acc);
    for (i64 k = 0; k < m; ++k)
        a = _mm512_fmadd_ps(_mm512_set1_ps(value[k]), _mm512_maskz_loadu_ps(mk, M + (i64)index[k] * N), a);
    _mm512_mask_storeu_ps(acc, mk, a);
}
#endif

// Indices and values of the non-zeros of row xr[0:n_in] into bi / bv (branch-free), which must
// hold n_in + COMPACT_SLACK entries; their count. With AVX-512, float32 rows are compacted 16
// values at a time (a compress in registers, then a full-width store: the compress-to-memory
// form is microcoded and slow on some CPUs): the forward kernel of a 784 -> 512 layer at input
// spike probability 0.1 takes ~0.7 ms (11 %) less than with the scalar loop.
constexpr i64 COMPACT_SLACK = 16;

template <class F>
inline i64 compact_row(const F* __restrict xr, i64 n_in, i32* __restrict bi, F* __restrict bv) {
    i64 m = 0;
    for (i64 j = 0; j < n_in; ++j) {
        const F xv = xr[j];
        bi[m] = (i32)j;
        bv[m] = xv;
        m += (xv != F(0));
    }
    return m;
}

#if defined(__AVX512F__)
template <>
inline i64 compact_row<float>(const float* __restrict xr, i64 n_in, i32* __restrict bi, float* __restrict bv) {
    i64 m = 0, j = 0;
    __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i sixteen = _mm512_set1_epi32(16);
    const __m512 zero = _mm512_setzero_ps();
    for (; j + 16 <= n_in; j += 16) {
        const __m512 v = _mm512_loadu_ps(xr + j);
        const __mmask16 k = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);  // NaN counts as non-zero
        _mm512_storeu_si512((void*)(bi + m), _mm512_maskz_compress_epi32(k, idx));
        _mm512_storeu_ps(bv + m, _mm512_maskz_compress_ps(k, v));
        m += __builtin_popcount((unsigned)k);
        idx = _mm512_add_epi32(idx, sixteen);
    }
    for (; j < n_in; ++j) {
        const float xv = xr[j];
        bi[m] = (i32)j;
        bv[m] = xv;
        m += (xv != 0.0f);
    }
    return m;
}
#endif

// g = sigma'(h) for one row: the closed forms of neurocircuits/surrogate.py.
// kind: 0 fast sigmoid, 1 arctan, 2 triangle, 3 sigmoid, 4 Gaussian (width prm[KW]).
template <class F>
inline void surrogate_row(int kind, const F* prm, const F* __restrict h, F* __restrict g, i64 N) {
    const F k = prm[KW], c1 = prm[C1], c2 = prm[C2], one = F(1), zero = F(0);
    switch (kind) {
        case 0:
            for (i64 q = 0; q < N; ++q) {
                const F d = one + k * std::abs(h[q]);
                g[q] = one / (d * d);
            }
            break;
        case 1:
            for (i64 q = 0; q < N; ++q) {
                const F z = c1 * h[q];
                g[q] = c2 / (one + z * z);
            }
            break;
        case 2:
            for (i64 q = 0; q < N; ++q) g[q] = std::max(zero, one - std::abs(h[q]) * c1) * c1;
            break;
        case 3:
            for (i64 q = 0; q < N; ++q) {
                const F sg = one / (one + std::exp(-k * h[q]));
                g[q] = k * sg * (one - sg);
            }
            break;
        default:
            for (i64 q = 0; q < N; ++q) {
                const F z = h[q] * c1;
                g[q] = std::exp(F(-0.5) * z * z) * c2;
            }
    }
}

// ------------------------------------------------------------------ row index of the input
template <class F>
i64 row_counts(const F* x, i64 R, i64 n_in, i64* counts, i64 nb, int nth) {
    i64 bad = 0;
#pragma omp parallel for num_threads(nth) schedule(static) reduction(+ : bad)
    for (i64 c = 0; c < nb; ++c) {
        for (i64 r = block_lo(c, R, nb); r < block_lo(c + 1, R, nb); ++r) {
            const F* xr = x + r * n_in;
            i64 m = 0, nbad = 0;
            for (i64 j = 0; j < n_in; ++j) {
                const F xv = xr[j];
                m += (xv != F(0));
                nbad += ((xv - xv) != F(0));  // NaN for NaN and +-inf, 0 otherwise
            }
            counts[r + 1] = m;
            bad += nbad;
        }
    }
    return bad;
}

// LIF update of one row from its input current a (reset: v -= s (a_sub thr + a_zero u)).
template <class F>
inline void lif_step_row(const F* __restrict a, const F* __restrict beta, F* __restrict v, F* __restrict H,
                         F* __restrict S, i64 N, F thr, F a_sub, F a_zero) {
    for (i64 q = 0; q < N; ++q) {
        const F u = beta[q] * v[q] + a[q];
        const F h = u - thr;
        const F s = h >= F(0) ? F(1) : F(0);
        H[q] = h;
        S[q] = s;
        v[q] = u - s * (a_sub * thr + a_zero * u);
    }
}

// lif_step_row for one tile of w <= CT neurons. With AVX-512, a full float32 tile whose H and
// S rows are 64-byte aligned is stored with non-temporal stores: H and S (13 MB for a 784 ->
// 512 layer at T = 25, B = 128) then do not pass through the cache and evict the tile of W^T
// that the gathers read from L2.
template <class F, int CT>
inline void lif_step_tile(const F* __restrict a, const F* __restrict beta, F* __restrict v, F* __restrict H,
                          F* __restrict S, i64 w, F thr, F a_sub, F a_zero) {
    lif_step_row(a, beta, v, H, S, w, thr, a_sub, a_zero);
}

#if defined(__AVX512F__)
template <>
inline void lif_step_tile<float, 128>(const float* __restrict a, const float* __restrict beta, float* __restrict v,
                                      float* __restrict H, float* __restrict S, i64 w, float thr, float a_sub,
                                      float a_zero) {
    if (w != 128 || (((uintptr_t)H | (uintptr_t)S) & 63)) {
        lif_step_row(a, beta, v, H, S, w, thr, a_sub, a_zero);
        return;
    }
    const __m512 th = _mm512_set1_ps(thr), one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    const __m512 c_sub = _mm512_set1_ps(a_sub * thr), c_zero = _mm512_set1_ps(a_zero);
    for (int q = 0; q < 128; q += 16) {
        const __m512 u = _mm512_fmadd_ps(_mm512_loadu_ps(beta + q), _mm512_loadu_ps(v + q), _mm512_loadu_ps(a + q));
        const __m512 h = _mm512_sub_ps(u, th);
        const __m512 sp = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(h, zero, _CMP_GE_OQ), zero, one);
        _mm512_stream_ps(H + q, h);
        _mm512_stream_ps(S + q, sp);
        _mm512_storeu_ps(v + q, _mm512_sub_ps(u, _mm512_mul_ps(sp, _mm512_fmadd_ps(c_zero, u, c_sub))));
    }
}
#endif

// Width of the neuron tiles of the forward gather, in bytes: a tile of W^T (n_in rows of
// TILE_BYTES) is packed contiguous and stays in a core's L2 (784 inputs: 392 KiB) while every
// row of the thread's batch rows takes its input current for those neurons from it.
// Measured on a 784 -> 512 layer (2 threads, AVX-512, 1 MiB L2 per core): the gather alone
// 36 against 25 adds per ns with the whole 1.5 MiB W^T (256-byte and 2 KiB tiles slower;
// tiles cut out of W^T without packing, rows 2 KiB apart, gained nothing); the forward kernel
// 4.1 against 5.2 ms, alternated in one process, of which the non-temporal H / S stores of
// lif_step_tile are ~1 ms (without them the tiles are evicted by the 13 MB of outputs).
constexpr i64 TILE_BYTES = 512;

// acc[0:CT] += sum_{k <= e < k1} value[e] * Wt[index[e], 0:CT] (Wt: a packed tile, rows of CT
// values): add_rows, or with AVX-512 a float32 tile held in 8 registers. (With CT a
// compile-time constant in plain C++, g++ 12 unrolls the row and vectorises across events,
// with gathers, 4x slower.)
template <class F, int CT>
inline void tile_rows(F* __restrict acc, const F* __restrict Wt, const i32* __restrict index,
                      const F* __restrict value, i64 k, i64 k1) {
    add_rows(acc, Wt, CT, index, value, k, k1);
}

#if defined(__AVX512F__)
template <>
inline void tile_rows<float, 128>(float* __restrict acc, const float* __restrict Wt, const i32* __restrict index,
                                  const float* __restrict value, i64 k, i64 k1) {
    __m512 a[8];
    for (int q = 0; q < 8; ++q) a[q] = _mm512_loadu_ps(acc + 16 * q);
    for (; k + 2 <= k1; k += 2) {
        const float* m0 = Wt + (i64)index[k] * 128;
        const float* m1 = Wt + (i64)index[k + 1] * 128;
        const __m512 x0 = _mm512_set1_ps(value[k]), x1 = _mm512_set1_ps(value[k + 1]);
        for (int q = 0; q < 8; ++q)
            a[q] = _mm512_add_ps(a[q], _mm512_fmadd_ps(x1, _mm512_loadu_ps(m1 + 16 * q),
                                                       _mm512_mul_ps(x0, _mm512_loadu_ps(m0 + 16 * q))));
    }
    if (k < k1) {
        const float* m0 = Wt + (i64)index[k] * 128;
        const __m512 x0 = _mm512_set1_ps(value[k]);
        for (int q = 0; q < 8; ++q) a[q] = _mm512_fmadd_ps(x0, _mm512_loadu_ps(m0 + 16 * q), a[q]);
    }
    for (int q = 0; q < 8; ++q) _mm512_storeu_ps(acc + 16 * q, a[q]);
}
#endif

// ------------------------------------------------------------------ linear + LIF forward
// x [T*B, n_in] (row t*B + r is x_t[r]); wt = W^T [n_in, N]; bias, beta [N]; v [B, N] (v_0 in,
// v_T out); H = u - thr and S [T, B, N]; fills the row index (idx, val at indptr[row]).
// Three phases: the rows of x are compacted into the index; W^T is packed in tiles of
// TILE_BYTES of neurons (zero-padded); then, tile by tile, each thread runs the LIF recursion
// of its batch rows for the tile's neurons, adding the tile's rows of the active inputs.
template <class F>
void linear_lif_forward(const F* x, i64 T, i64 B, i64 n_in, i64 N, const i64* indptr, i32* idx, F* val,
                        const F* wt, const F* bias, const F* beta, F* v, const F* prm, F* H, F* S,
                        i64 nb, int nth) {
    constexpr int CT = (int)(TILE_BYTES / sizeof(F));
    const F thr = prm[THR], a_sub = prm[A_SUB], a_zero = prm[A_ZERO];
    const i64 R = T * B, NT = (N + CT - 1) / CT;
    std::unique_ptr<F[]> wp(new F[(size_t)(NT * n_in * CT)]);
    std::vector<F> bp((size_t)(NT * CT), F(0));
    std::copy(bias, bias + N, bp.begin());
#pragma omp parallel num_threads(nth)
    {
        std::vector<F> bv((size_t)(n_in + COMPACT_SLACK));
        std::vector<i32> bi((size_t)(n_in + COMPACT_SLACK));
        // compact_row writes past the row's count: compact into buffers, then copy
#pragma omp for schedule(static) nowait
        for (i64 c = 0; c < nb; ++c)
            for (i64 row = block_lo(c, R, nb); row < block_lo(c + 1, R, nb); ++row) {
                const i64 m = compact_row(x + row * n_in, n_in, bi.data(), bv.data());
                std::copy(bi.data(), bi.data() + m, idx + indptr[row]);
                std::copy(bv.data(), bv.data() + m, val + indptr[row]);
            }
#pragma omp for schedule(static)
        for (i64 j = 0; j < n_in; ++j)
            for (i64 tt = 0; tt < NT; ++tt) {
                F* __restrict dst = wp.get() + (tt * n_in + j) * CT;
                const i64 w = std::min<i64>(CT, N - tt * CT);
                std::copy(wt + j * N + tt * CT, wt + j * N + tt * CT + w, dst);
                std::fill(dst + w, dst + CT, F(0));
            }
        alignas(64) F acc[CT];
        for (i64 tt = 0; tt < NT; ++tt) {
            const F* __restrict wtile = wp.get() + tt * n_in * CT;
            const i64 off = tt * CT, w = std::min<i64>(CT, N - off);
            // the same static split of blocks in every tile: a thread's rows stay its own
#pragma omp for schedule(static) nowait
            for (i64 c = 0; c < nb; ++c)
                for (i64 r = block_lo(c, B, nb); r < block_lo(c + 1, B, nb); ++r)
                    for (i64 t = 0; t < T; ++t) {
                        const i64 row = t * B + r;
                        std::copy(bp.data() + off, bp.data() + off + CT, acc);
                        tile_rows<F, CT>(acc, wtile, idx, val, indptr[row], indptr[row + 1]);
                        lif_step_tile<F, CT>(acc, beta + off, v + r * N + off, H + row * N + off,
                                             S + row * N + off, w, thr, a_sub, a_zero);
                    }
        }
#if defined(__AVX512F__)
        _mm_sfence();  // the non-temporal stores of lif_step_tile are complete before returning
#endif
    }
}

// Linear + LIF forward of a narrow layer (a few neurons, e.g. a readout): as
// linear_lif_forward, but the input's non-zeros are not kept (the backward pass scans x again,
// which costs less than counting them first to size an index). Returns the number of NaN /
// inf values in x (they are among the compacted non-zeros); the caller discards the outputs
// when it is not 0.
template <class F>
i64 narrow_linear_lif_forward(const F* x, i64 T, i64 B, i64 n_in, i64 N, const F* wt, const F* bias,
                              const F* beta, F* v, const F* prm, F* H, F* S, i64 nb, int nth) {
    const F thr = prm[THR], a_sub = prm[A_SUB], a_zero = prm[A_ZERO];
    i64 bad = 0;
#pragma omp parallel for num_threads(nth) schedule(static) reduction(+ : bad)
    for (i64 c = 0; c < nb; ++c) {
        std::vector<F> acc((size_t)N), bv((size_t)(n_in + COMPACT_SLACK));
        std::vector<i32> bi((size_t)(n_in + COMPACT_SLACK));
        for (i64 r = block_lo(c, B, nb); r < block_lo(c + 1, B, nb); ++r) {
            F* __restrict vr = v + r * N;
            for (i64 t = 0; t < T; ++t) {
                const i64 row = t * B + r;
                const i64 m = compact_row(x + row * n_in, n_in, bi.data(), bv.data());
                for (i64 k = 0; k < m; ++k) bad += ((bv[k] - bv[k]) != F(0));
                F* __restrict a = acc.data();
                std::copy(bias, bias + N, a);
                add_rows_narrow(a, wt, N, bi.data(), bv.data(), m);
                lif_step_row(a, beta, vr, H + row * N, S + row * N, N, thr, a_sub, a_zero);
            }
        }
    }
    return bad;
}

// Backward of a narrow layer's product by scanning x [R, n_in] again (D = dL/di [R, N]):
// for every non-zero x[r, j], part[c, j] += x[r, j] D[r], with one partial dL/dW^T [n_in, N]
// per block c of rows (summed by the caller in block order: the numbers do not depend on the
// thread count); and, when gx is not null, gx[r] = D[r] W (W [N, n_in]) in the same pass.
template <class F>
void narrow_backward(const F* x, const F* D, const F* W, F* gx, i64 R, i64 n_in, i64 N, F* part, i64 nb,
                     int nth) {
#pragma omp parallel for num_threads(nth) schedule(static)
    for (i64 c = 0; c < nb; ++c) {
        std::vector<F> bv((size_t)(n_in + COMPACT_SLACK));
        std::vector<i32> bi((size_t)(n_in + COMPACT_SLACK));
        F* __restrict pc = part + c * n_in * N;
        std::fill(pc, pc + n_in * N, F(0));
        for (i64 r = block_lo(c, R, nb); r < block_lo(c + 1, R, nb); ++r) {
            const F* __restrict d = D + r * N;
            if (gx) {
                F* __restrict g = gx + r * n_in;
                std::fill(g, g + n_in, F(0));
                for (i64 q = 0; q < N; ++q) {
                    const F dq = d[q];
                    const F* __restrict w = W + q * n_in;
                    for (i64 i = 0; i < n_in; ++i) g[i] += dq * w[i];
                }
            }
            const i64 m = compact_row(x + r * n_in, n_in, bi.data(), bv.data());
            add_outer(pc, N, bi.data(), bv.data(), m, d);
        }
    }
}

// y[r] = x[r] W^T over the non-zeros of x [R, n_in]; fills the row index of x.
template <class F>
void event_linear(const F* x, i64 R, i64 n_in, i64 N, const i64* indptr, i32* idx, F* val, const F* wt,
                  F* y, i64 nb, int nth) {
#pragma omp parallel for num_threads(nth) schedule(static)
    for (i64 c = 0; c < nb; ++c) {
        std::vector<F> bv((size_t)(n_in + COMPACT_SLACK));
        std::vector<i32> bi((size_t)(n_in + COMPACT_SLACK));
        for (i64 r = block_lo(c, R, nb); r < block_lo(c + 1, R, nb); ++r) {
            const i64 m = compact_row(x + r * n_in, n_in, bi.data(), bv.data());
            std::copy(bi.data(), bi.data() + m, idx + indptr[r]);
            std::copy(bv.data(), bv.data() + m, val + indptr[r]);
            F* yr = y + r * N;
            std::fill(yr, yr + N, F(0));
            add_rows(yr, wt, N, bi.data(), bv.data(), 0, m);
        }
    }
}

// One step of the adjoint for one batch row (the loop body of linear_lif_adjoint). A function
// of its own with restrict arguments: written inline in the time loop, g++ 12 did not
// vectorise it ("no vectype"), and the whole adjoint ran ~2x slower.
template <class F>
inline void adjoint_row(const F* __restrict Ht, const F* __restrict gt, const F* __restrict g,
                        const F* __restrict vp, const F* __restrict beta, F* __restrict lr,
                        F* __restrict gb, F* __restrict dbc, F* __restrict Dt, i64 N, F thr, F a_zero,
                        F nd, F cst) {
    for (i64 q = 0; q < N; ++q) {
        const F h = Ht[q];
        const F s = h >= F(0) ? F(1) : F(0);
        const F lv = lr[q];
        const F ds = gt[q] - nd * lv * (cst + a_zero * (h + thr));
        const F du = lv * (F(1) - a_zero * s) + ds * g[q];
        gb[q] += du * vp[q];
        dbc[q] += du;
        lr[q] = beta[q] * du;
        Dt[q] = du;
    }
}

// ------------------------------------------------------------------ linear + LIF adjoint
// Reverse-time adjoint of the LIF recursion per batch row: H, gS, D (out: dL/di) [T, B, N];
// v0, lam [B, N] (lam: dL/dv_T in, dL/dv_0 out); beta [N]; g_beta, db [nb, N]: per block.
template <class F>
void linear_lif_adjoint(const F* H, const F* gS, const F* v0, const F* beta, const F* prm, int kind, F* lam,
                        F* D, F* g_beta, F* db, i64 T, i64 B, i64 N, i64 nb, int nth) {
    const F thr = prm[THR], a_zero = prm[A_ZERO], nd = prm[ND], cst = prm[A_SUB] * prm[THR];
#pragma omp parallel for num_threads(nth) schedule(static)
    for (i64 c = 0; c < nb; ++c) {
        std::vector<F> gbuf((size_t)N), vbuf((size_t)N);
        F* __restrict g = gbuf.data();
        F* __restrict gb = g_beta + c * N;
        F* __restrict dbc = db + c * N;
        for (i64 r = block_lo(c, B, nb); r < block_lo(c + 1, B, nb); ++r) {
            F* __restrict lr = lam + r * N;
            for (i64 t = T - 1; t >= 0; --t) {
                const F* __restrict Ht = H + (t * B + r) * N;
                const F* __restrict Hp = t > 0 ? H + ((t - 1) * B + r) * N : nullptr;
                const F* __restrict gt = gS + (t * B + r) * N;
                F* __restrict Dt = D + (t * B + r) * N;
                surrogate_row(kind, prm, Ht, g, N);
                F* __restrict vp = vbuf.data();  // v_{t-1}, rebuilt from H_{t-1} (or v_0)
                if (Hp) {
                    for (i64 q = 0; q < N; ++q) {
                        const F hp = Hp[q];
                        const F sp = hp >= F(0) ? F(1) : F(0);
                        const F up = hp + thr;
                        vp[q] = up - sp * (cst + a_zero * up);
                    }
                } else {
                    std::copy(v0 + r * N, v0 + (r + 1) * N, vp);
                }
                adjoint_row(Ht, gt, g, vp, beta, lr, gb, dbc, Dt, N, thr, a_zero, nd, cst);
            }
        }
    }
}

// dL/dW^T[j] = sum over the rows r where input j is active of x[r, j] D[r], for all inputs j
// (D = dL/di as [R, N]; x given by its row index indptr / idx / val). Inputs are split in nb
// blocks; each block first builds its own column index (a counting sort of the events of its
// inputs, rows ascending within a column: no serial pass, no shared index), then visits the
// rows of D in blocks of rb (kept in cache while every input of the range takes its rows from
// the block). Each dL/dW^T row is summed by one thread in row order.
template <class F>
void weight_grad(const i64* indptr, const i32* idx, const F* val, const F* D, i64 R, i64 N, i64 n_in,
                 F* dwt, i64 rb, i64 nb, int nth) {
#pragma omp parallel for num_threads(nth) schedule(static)
    for (i64 c = 0; c < nb; ++c) {
        const i64 j_lo = block_lo(c, n_in, nb), j_hi = block_lo(c + 1, n_in, nb), m = j_hi - j_lo;
        const uint32_t um = (uint32_t)m;
        std::vector<i64> colptr((size_t)(m + 1), 0);
        const i64 n_ev = indptr[R];
        for (i64 k = 0; k < n_ev; ++k) {
            const uint32_t j = (uint32_t)(idx[k] - (i32)j_lo);
            if (j < um) colptr[j + 1]++;
        }
        for (i64 j = 0; j < m; ++j) colptr[j + 1] += colptr[j];
        std::vector<i64> cur(colptr.begin(), colptr.end() - 1);  // next free slot, then next to sum
        std::vector<i32> rows((size_t)colptr[m]);
        std::vector<F> cval((size_t)colptr[m]);
        for (i64 r = 0; r < R; ++r)
            for (i64 k = indptr[r]; k < indptr[r + 1]; ++k) {
                const uint32_t j = (uint32_t)(idx[k] - (i32)j_lo);
                if (j < um) {
                    const i64 e = cur[j]++;
                    rows[e] = (i32)r;
                    cval[e] = val[k];
                }
            }
        std::copy(colptr.begin(), colptr.end() - 1, cur.begin());
        std::vector<F> acc((size_t)N);
        std::fill(dwt + j_lo * N, dwt + j_hi * N, F(0));
        for (i64 r1 = rb; r1 < R + rb; r1 += rb) {
            for (i64 j = 0; j < m; ++j) {
                const i64 k = cur[j], k1 = colptr[j + 1];
                i64 e = k;
                while (e < k1 && rows[e] < r1) ++e;
                if (e == k) continue;
                cur[j] = e;
                std::fill(acc.begin(), acc.end(), F(0));
                add_rows(acc.data(), D, N, rows.data(), cval.data(), k, e);
                F* __restrict w = dwt + (j_lo + j) * N;
                for (i64 q = 0; q < N; ++q) w[q] += acc[q];
            }
        }
    }
}

// ------------------------------------------------------------------ fused LIF / ALIF time loop
// One step of one batch row. The flags are template arguments so that every combination
// compiles to a loop without branches, which g++ vectorises (with runtime flags it did not).
template <class F, int RESET, bool SYN, bool ADAPT>
inline void lif_forward_row(const F* __restrict x, F* __restrict v, F* __restrict i, F* __restrict a,
                            const F* __restrict beta, const F* __restrict alpha, const F* __restrict rho,
                            F thr0, F b, F* __restrict H, F* __restrict S, F* __restrict I, i64 N) {
    for (i64 n = 0; n < N; ++n) {
        F ii = x[n];
        if (SYN) {
            ii += alpha[n] * i[n];
            i[n] = ii;
            I[n] = ii;
        }
        const F u = beta[n] * v[n] + ii;
        const F thr = ADAPT ? thr0 + b * a[n] : thr0;
        const F h = u - thr;
        const F s = h >= F(0) ? F(1) : F(0);
        H[n] = h;
        S[n] = s;
        v[n] = RESET == 0 ? u - s * thr : (RESET == 1 ? u * (F(1) - s) : u);
        if (ADAPT) a[n] = rho[n] * a[n] + (F(1) - rho[n]) * s;
    }
}

template <class F, int RESET, bool SYN, bool ADAPT>
void lif_forward_t(const F* x, F* v, F* i, F* a, const F* beta, const F* alpha, const F* rho, F thr0, F b,
                   F* H, F* S, F* I_traj, i64 T, i64 B, i64 N, i64 nb, int nth) {
#pragma omp parallel for num_threads(nth) schedule(static)
    for (i64 c = 0; c < nb; ++c) {
        for (i64 t = 0; t < T; ++t) {
            for (i64 r = block_lo(c, B, nb); r < block_lo(c + 1, B, nb); ++r) {
                const i64 o = (t * B + r) * N, p = r * N;
                lif_forward_row<F, RESET, SYN, ADAPT>(x + o, v + p, i + p, a + p, beta, alpha, rho, thr0, b,
                                                      H + o, S + o, I_traj + o, N);
            }
        }
    }
}

// Runs CALL with the runtime flags as compile-time constants R_ (reset: 0 subtract, 1 zero,
// 2 none), S_ (synaptic current) and A_ (adaptation).
#define NC_CASE(K, R, S, A, CALL)              \
    case K: {                                  \
        constexpr int R_ = R;                  \
        constexpr bool S_ = S, A_ = A;         \
        CALL;                                  \
        break;                                 \
    }
#define NC_DISPATCH_FLAGS(reset, has_syn, has_adapt, CALL)                                \
    switch (((reset) == 0 ? 0 : (reset) == 1 ? 1 : 2) * 4 + ((has_syn) ? 2 : 0) +             \
            ((has_adapt) ? 1 : 0)) {                                                          \
        NC_CASE(0, 0, false, false, CALL) NC_CASE(1, 0, false, true, CALL)                    \
        NC_CASE(2, 0, true, false, CALL) NC_CASE(3, 0, true, true, CALL)                      \
        NC_CASE(4, 1, false, false, CALL) NC_CASE(5, 1, false, true, CALL)                    \
        NC_CASE(6, 1, true, false, CALL) NC_CASE(7, 1, true, true, CALL)                      \
        NC_CASE(8, 2, false, false, CALL) NC_CASE(9, 2, false, true, CALL)                    \
        NC_CASE(10, 2, true, false, CALL) default: NC_CASE(11, 2, true, true, CALL)           \
    }

// Forward for all batch rows: x, H, S, I_traj [T, B, N]; v, i, a [B, N] state updated in place
// (i / a / I_traj only read with a synapse / adaptation); beta, alpha, rho [N].
template <class F>
void lif_forward(const F* x, F* v, F* i, F* a, const F* beta, const F* alpha, const F* rho, F thr0, F b,
                 int reset, int has_syn, int has_adapt, F* H, F* S, F* I_traj, i64 T, i64 B, i64 N, i64 nb,
                 int nth) {
    NC_DISPATCH_FLAGS(reset, has_syn, has_adapt,
                      (lif_forward_t<F, R_, S_, A_>(x, v, i, a, beta, alpha, rho, thr0, b, H, S, I_traj, T, B, N,
                                                    nb, nth)));
}

// One reverse step of one batch row: o-arrays at step t (Hp, Ap, Ip at t - 1, null at t = 0),
// p-arrays [N] of the row's state; g: σ'(h) of the step.
template <class F, int RESET, bool SYN, bool ADAPT, bool DETACH>
inline void lif_backward_row(const F* __restrict H, const F* __restrict Hp, const F* __restrict g,
                             const F* __restrict gS, const F* __restrict A, const F* __restrict Ap,
                             const F* __restrict Ip, const F* __restrict v0, const F* __restrict i0,
                             const F* __restrict beta, const F* __restrict alpha, const F* __restrict rho,
                             F thr0, F b, F* __restrict lam_v, F* __restrict lam_i, F* __restrict lam_a,
                             F* __restrict dX, F* __restrict g_beta, F* __restrict g_alpha,
                             F* __restrict g_rho, i64 N) {
    for (i64 n = 0; n < N; ++n) {
        const F h = H[n];
        const F s = h >= F(0) ? F(1) : F(0);
        const F thr = ADAPT ? thr0 + b * A[n] : thr0;
        const F lv = lam_v[n];
        F ds = gS[n];
        if (ADAPT) ds += (F(1) - rho[n]) * lam_a[n];
        if (!DETACH) {
            if (RESET == 0) ds -= lv * thr;
            else if (RESET == 1) ds -= lv * (h + thr);
        }
        F du = RESET == 1 ? lv * (F(1) - s) : lv;
        const F dh = ds * g[n];
        du += dh;
        const F di = SYN ? du + lam_i[n] : du;
        dX[n] = di;
        F vp;
        if (Hp) {
            const F hp = Hp[n];
            const F sp = hp >= F(0) ? F(1) : F(0);
            const F thp = ADAPT ? thr0 + b * Ap[n] : thr0;
            const F up = hp + thp;
            vp = RESET == 0 ? up - sp * thp : (RESET == 1 ? up * (F(1) - sp) : up);
        } else {
            vp = v0[n];
        }
        g_beta[n] += du * vp;
        lam_v[n] = beta[n] * du;
        if (SYN) {
            const F ip = Hp ? Ip[n] : i0[n];
            g_alpha[n] += di * ip;
            lam_i[n] = alpha[n] * di;
        }
        if (ADAPT) {
            const F dA = RESET == 0 ? -dh - lv * s : -dh;
            g_rho[n] += lam_a[n] * (A[n] - s);
            lam_a[n] = rho[n] * lam_a[n] + b * dA;
        }
    }
}

template <class F, int RESET, bool SYN, bool ADAPT, bool DETACH>
void lif_backward_t(const F* H, const F* SG, int kind, const F* prm, const F* gS, const F* I_traj, const F* v0,
                    const F* i0, const F* a0, const F* beta, const F* alpha, const F* rho, F thr0, F b,
                    F* lam_v, F* lam_i, F* lam_a, F* dX, F* g_beta, F* g_alpha, F* g_rho, F* A_prev, i64 T,
                    i64 B, i64 N, i64 nb, int nth) {
#pragma omp parallel for num_threads(nth) schedule(static)
    for (i64 c = 0; c < nb; ++c) {
        const i64 r_lo = block_lo(c, B, nb), r_hi = block_lo(c + 1, B, nb);
        std::vector<F> gbuf((size_t)N);
        F* g = gbuf.data();
        if (ADAPT) {  // a_{t-1} for every t, rebuilt from the spikes
            for (i64 r = r_lo; r < r_hi; ++r)
                for (i64 n = 0; n < N; ++n) A_prev[r * N + n] = a0[r * N + n];
            for (i64 t = 1; t < T; ++t)
                for (i64 r = r_lo; r < r_hi; ++r)
                    for (i64 n = 0; n < N; ++n) {
                        const i64 o = (t * B + r) * N + n, op = ((t - 1) * B + r) * N + n;
                        const F s = H[op] >= F(0) ? F(1) : F(0);
                        A_prev[o] = rho[n] * A_prev[op] + (F(1) - rho[n]) * s;
                    }
        }
        for (i64 t = T - 1; t >= 0; --t) {
            for (i64 r = r_lo; r < r_hi; ++r) {
                const i64 o = (t * B + r) * N, p = r * N, op = o - B * N;
                const F* gt;
                if (kind >= 0) {
                    surrogate_row(kind, prm, H + o, g, N);
                    gt = g;
                } else {
                    gt = SG + o;
                }
                lif_backward_row<F, RESET, SYN, ADAPT, DETACH>(
                    H + o, t > 0 ? H + op : nullptr, gt, gS + o, ADAPT ? A_prev + o : nullptr,
                    ADAPT && t > 0 ? A_prev + op : nullptr, SYN && t > 0 ? I_traj + op : nullptr, v0 + p,
                    SYN ? i0 + p : nullptr, beta, alpha, rho, thr0, b, lam_v + p, SYN ? lam_i + p : nullptr,
                    ADAPT ? lam_a + p : nullptr, dX + o, g_beta + p, SYN ? g_alpha + p : nullptr,
                    ADAPT ? g_rho + p : nullptr, N);
            }
        }
    }
}

// Reverse-time adjoint (equations in bptt.py) for all batch rows. lam_* [B, N] enter holding
// the gradients of the final state and leave holding those of the initial state; g_* [B, N]
// accumulate per element. The surrogate derivative is evaluated here (kind >= 0) or read from
// SG [T, B, N] (kind == -1). A_prev [T, B, N]: workspace for the adaptation trajectory.
template <class F>
void lif_backward(const F* H, const F* SG, int kind, const F* prm, const F* gS, const F* I_traj, const F* v0,
                  const F* i0, const F* a0, const F* beta, const F* alpha, const F* rho, F thr0, F b, int reset,
                  int detach, int has_syn, int has_adapt, F* lam_v, F* lam_i, F* lam_a, F* dX, F* g_beta,
                  F* g_alpha, F* g_rho, F* A_prev, i64 T, i64 B, i64 N, i64 nb, int nth) {
#define NC_BACKWARD(D)                                                                                   \
    (lif_backward_t<F, R_, S_, A_, D>(H, SG, kind, prm, gS, I_traj, v0, i0, a0, beta, alpha, rho, thr0, b, \
                                      lam_v, lam_i, lam_a, dX, g_beta, g_alpha, g_rho, A_prev, T, B, N, nb, \
                                      nth))
    if (detach) {
        NC_DISPATCH_FLAGS(reset, has_syn, has_adapt, NC_BACKWARD(true));
    } else {
        NC_DISPATCH_FLAGS(reset, has_syn, has_adapt, NC_BACKWARD(false));
    }
#undef NC_BACKWARD
}

// dst [cols, rows] = transpose of src [rows, cols], in 32 x 32 tiles (a plain strided copy
// touches a new cache line per element; a tile keeps both sides' lines in L1).
template <class F>
void transpose(const F* src, i64 rows, i64 cols, F* dst, int nth) {
    constexpr i64 TB = 32;
    const i64 n_tiles = (rows + TB - 1) / TB;
#pragma omp parallel for num_threads(nth) schedule(static)
    for (i64 it = 0; it < n_tiles; ++it) {
        const i64 i0 = it * TB, i1 = std::min(rows, i0 + TB);
        for (i64 j0 = 0; j0 < cols; j0 += TB) {
            const i64 j1 = std::min(cols, j0 + TB);
            for (i64 j = j0; j < j1; ++j)
                for (i64 i = i0; i < i1; ++i) dst[j * rows + i] = src[i * cols + j];
        }
    }
}

template <class F>
i64 count_nonfinite(const F* x, i64 n, int nth) {
    i64 bad = 0;
#pragma omp parallel for num_threads(nth) schedule(static) reduction(+ : bad)
    for (i64 k = 0; k < n; ++k) bad += ((x[k] - x[k]) != F(0));
    return bad;
}

}  // namespace

// ------------------------------------------------------------------ C entry points
#define NC_EXPORT extern "C" __attribute__((visibility("default")))
#define NC_INSTANCES(F, S)                                                                          \
    NC_EXPORT i64 nc_row_counts_##S(const F* x, i64 R, i64 n_in, i64* counts, i64 nb, int nth) {     \
        return row_counts<F>(x, R, n_in, counts, nb, nth);                                          \
    }                                                                                               \
    NC_EXPORT void nc_linear_lif_forward_##S(const F* x, i64 T, i64 B, i64 n_in, i64 N,              \
                                             const i64* indptr, i32* idx, F* val, const F* wt,       \
                                             const F* bias, const F* beta, F* v, const F* prm, F* H, \
                                             F* S_, i64 nb, int nth) {                              \
        linear_lif_forward<F>(x, T, B, n_in, N, indptr, idx, val, wt, bias, beta, v, prm, H, S_, nb, \
                              nth);                                                                 \
    }                                                                                               \
    NC_EXPORT i64 nc_narrow_linear_lif_forward_##S(const F* x, i64 T, i64 B, i64 n_in, i64 N,        \
                                                   const F* wt, const F* bias, const F* beta, F* v,  \
                                                   const F* prm, F* H, F* S_, i64 nb, int nth) {     \
        return narrow_linear_lif_forward<F>(x, T, B, n_in, N, wt, bias, beta, v, prm, H, S_, nb, nth); \
    }                                                                                               \
    NC_EXPORT void nc_narrow_backward_##S(const F* x, const F* D, const F* W, F* gx, i64 R, i64 n_in, \
                                          i64 N, F* part, i64 nb, int nth) {                        \
        narrow_backward<F>(x, D, W, gx, R, n_in, N, part, nb, nth);                                 \
    }                                                                                               \
    NC_EXPORT void nc_event_linear_##S(const F* x, i64 R, i64 n_in, i64 N, const i64* indptr,        \
                                       i32* idx, F* val, const F* wt, F* y, i64 nb, int nth) {      \
        event_linear<F>(x, R, n_in, N, indptr, idx, val, wt, y, nb, nth);                           \
    }                                                                                               \
    NC_EXPORT void nc_linear_lif_adjoint_##S(const F* H, const F* gS, const F* v0, const F* beta,    \
                                             const F* prm, int kind, F* lam, F* D, F* g_beta,       \
                                             F* db, i64 T, i64 B, i64 N, i64 nb, int nth) {         \
        linear_lif_adjoint<F>(H, gS, v0, beta, prm, kind, lam, D, g_beta, db, T, B, N, nb, nth);    \
    }                                                                                               \
    NC_EXPORT void nc_weight_grad_##S(const i64* indptr, const i32* idx, const F* val, const F* D,   \
                                      i64 R, i64 N, i64 n_in, F* dwt, i64 rb, i64 nb, int nth) {    \
        weight_grad<F>(indptr, idx, val, D, R, N, n_in, dwt, rb, nb, nth);                          \
    }                                                                                               \
    NC_EXPORT void nc_lif_forward_##S(const F* x, F* v, F* i, F* a, const F* beta, const F* alpha,   \
                                      const F* rho, F thr0, F b, int reset, int has_syn,             \
                                      int has_adapt, F* H, F* S_, F* I_traj, i64 T, i64 B, i64 N,    \
                                      i64 nb, int nth) {                                            \
        lif_forward<F>(x, v, i, a, beta, alpha, rho, thr0, b, reset, has_syn, has_adapt, H, S_,     \
                       I_traj, T, B, N, nb, nth);                                                   \
    }                                                                                               \
    NC_EXPORT void nc_lif_backward_##S(                                                             \
        const F* H, const F* SG, int kind, const F* prm, const F* gS, const F* I_traj, const F* v0, \
        const F* i0, const F* a0, const F* beta, const F* alpha, const F* rho, F thr0, F b,        \
        int reset, int detach, int has_syn, int has_adapt, F* lam_v, F* lam_i, F* lam_a, F* dX,     \
        F* g_beta, F* g_alpha, F* g_rho, F* A_prev, i64 T, i64 B, i64 N, i64 nb, int nth) {         \
        lif_backward<F>(H, SG, kind, prm, gS, I_traj, v0, i0, a0, beta, alpha, rho, thr0, b, reset, \
                        detach, has_syn, has_adapt, lam_v, lam_i, lam_a, dX, g_beta, g_alpha,      \
                        g_rho, A_prev, T, B, N, nb, nth);                                           \
    }                                                                                               \
    NC_EXPORT void nc_transpose_##S(const F* src, i64 rows, i64 cols, F* dst, int nth) {              \
        transpose<F>(src, rows, cols, dst, nth);                                                    \
    }                                                                                               \
    NC_EXPORT i64 nc_count_nonfinite_##S(const F* x, i64 n, int nth) {                              \
        return count_nonfinite<F>(x, n, nth);                                                       \
    }

NC_INSTANCES(float, f32)
NC_INSTANCES(double, f64)

// Version of the entry points' signatures; native.py refuses a library built from other ones.
NC_EXPORT int nc_abi_version() { return 4; }
