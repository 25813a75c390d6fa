/* The AVX2 loops of _smo.c (included there once; not a public header): the column gather and
 * the three loops of every iteration, four or eight variables at a time, each variable's value
 * computed by libsvm's expression (see _smo.c and docs/adr/0025-own-smo-solver.md). */
#if SMO_AVX2
#include <immintrin.h>

/* get_q with AVX2 gathers, eight entries at a time; the sign flips by the sign bit (flip[j] is
 * 0x80000000 where y[j] is -1), which is what libsvm's multiplication by -1.0f does. */
__attribute__((target("avx2"))) static void get_q_avx2(const Solver *s, int i, int len, float *out) {
    const float *row = s->K + (size_t)s->index[i] * (size_t)s->n;
    const __m256i fi = _mm256_set1_epi32((int)s->flip[i]);
    int j = 0;
    for (; j + 8 <= len; j += 8) {
        const __m256i at = _mm256_loadu_si256((const __m256i *)(s->index + j));
        const __m256 v = _mm256_i32gather_ps(row, at, 4);
        const __m256i f = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(s->flip + j)), fi);
        _mm256_storeu_ps(out + j, _mm256_xor_ps(v, _mm256_castsi256_ps(f)));
    }
    const signed char yi = s->y[i];
    for (; j < len; j++) {
        const float v = row[s->index[j]];
        out[j] = (s->y[j] == yi) ? v : -v;
    }
}

/* The same three loops with AVX2, four variables at a time: every lane computes libsvm's
 * expression for its variable (y * x is exact for y = +1 or -1: -(y G) is libsvm's -G[t] or
 * G[t], gmax + y G its gmax + G[j] or gmax - G[j], (QD[i] + QD[j]) - (2 y[i] y[j]) Q_i[j] its
 * QD[i] + QD[j] -/+ 2.0 y[i] Q_i[j]); a variable that is no candidate gets -inf (i) or +inf (j).
 * The extreme is then taken over all lanes, and the index is the last variable holding it, as
 * libsvm's `>=` and `<=` keep the last. Adds and multiplies stay separate: no fused
 * multiply-add (the build passes -ffp-contract=off). */
/* Per lane, the running extreme and the last index holding it (`>=` / `<=` as libsvm's scans);
 * across lanes, the extreme and, among lanes holding it, the largest index: the last variable
 * holding the extreme overall. */
__attribute__((target("avx2"))) static int select_i_avx2(const Solver *s, double *gmax_out) {
    const int active = s->active_size;
    const double *G = s->G, *yd = s->yd;
    const long long *up = s->up;
    const __m256d sign = _mm256_set1_pd(-0.0), low = _mm256_set1_pd(-HUGE_VAL);
    __m256d best = low;
    __m256i best_idx = _mm256_set1_epi64x(-1), idx = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i step = _mm256_set1_epi64x(4);
    int t = 0;
    for (; t + 4 <= active; t += 4) {
        const __m256d v = _mm256_xor_pd(_mm256_mul_pd(_mm256_loadu_pd(yd + t), _mm256_loadu_pd(G + t)), sign);
        const __m256d m = _mm256_castsi256_pd(_mm256_loadu_si256((const __m256i *)(up + t)));
        const __m256d better = _mm256_and_pd(m, _mm256_cmp_pd(v, best, _CMP_GE_OQ));
        best = _mm256_blendv_pd(best, v, better);
        best_idx = _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(best_idx), _mm256_castsi256_pd(idx), better));
        idx = _mm256_add_epi64(idx, step);
    }
    double lanes[4];
    long long lane_idx[4];
    _mm256_storeu_pd(lanes, best);
    _mm256_storeu_si256((__m256i *)lane_idx, best_idx);
    double gmax = -HUGE_VAL;
    long long gmax_idx = -1;
    for (int k = 0; k < 4; k++)
        if (lane_idx[k] >= 0 && (gmax_idx < 0 || lanes[k] > gmax || (lanes[k] == gmax && lane_idx[k] > gmax_idx))) {
            gmax = lanes[k];
            gmax_idx = lane_idx[k];
        }
    for (; t < active; t++) {
        const double v = -(yd[t] * G[t]);
        if (up[t] && v >= gmax) {
            gmax = v;
            gmax_idx = t;
        }
    }
    *gmax_out = gmax;
    return (int)gmax_idx;
}

__attribute__((target("avx2"))) static int select_j_avx2(const Solver *s, int i, double gmax,
                                                        const float *q_i, double *gmax2_out) {
    const int active = s->active_size;
    const double *G = s->G, *yd = s->yd, *QD = s->QD;
    const long long *lo = s->low;
    const __m256d sign = _mm256_set1_pd(-0.0), zero = _mm256_setzero_pd();
    const __m256d inf = _mm256_set1_pd(HUGE_VAL), ninf = _mm256_set1_pd(-HUGE_VAL);
    const __m256d tau = _mm256_set1_pd(TAU), g = _mm256_set1_pd(gmax);
    const double qd_i = QD[i], two_yi = 2.0 * yd[i];
    const __m256d qdi = _mm256_set1_pd(qd_i), tyi = _mm256_set1_pd(two_yi);
    __m256d best = inf, top = ninf;
    __m256i best_idx = _mm256_set1_epi64x(-1), idx = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i step = _mm256_set1_epi64x(4);
    int j = 0;
    for (; j + 4 <= active; j += 4) {
        const __m256d y4 = _mm256_loadu_pd(yd + j);
        const __m256d v = _mm256_mul_pd(y4, _mm256_loadu_pd(G + j));
        const __m256d m = _mm256_castsi256_pd(_mm256_loadu_si256((const __m256i *)(lo + j)));
        const __m256d gd = _mm256_add_pd(g, v);
        const __m256d take = _mm256_and_pd(m, _mm256_cmp_pd(gd, zero, _CMP_GT_OQ));
        top = _mm256_blendv_pd(top, v, _mm256_and_pd(m, _mm256_cmp_pd(v, top, _CMP_GE_OQ)));
        if (_mm256_movemask_pd(take) != 0) { /* the division only where a lane is a candidate */
            const __m256d q = _mm256_cvtps_pd(_mm_loadu_ps(q_i + j));
            const __m256d qc = _mm256_sub_pd(_mm256_add_pd(qdi, _mm256_loadu_pd(QD + j)),
                                             _mm256_mul_pd(_mm256_mul_pd(tyi, y4), q));
            const __m256d den = _mm256_blendv_pd(tau, qc, _mm256_cmp_pd(qc, zero, _CMP_GT_OQ));
            const __m256d obj = _mm256_div_pd(_mm256_xor_pd(_mm256_mul_pd(gd, gd), sign), den);
            const __m256d better = _mm256_and_pd(take, _mm256_cmp_pd(obj, best, _CMP_LE_OQ));
            best = _mm256_blendv_pd(best, obj, better);
            best_idx = _mm256_castpd_si256(_mm256_blendv_pd(
                _mm256_castsi256_pd(best_idx), _mm256_castsi256_pd(idx), better));
        }
        idx = _mm256_add_epi64(idx, step);
    }
    double lanes[4], tops[4];
    long long lane_idx[4];
    _mm256_storeu_pd(lanes, best);
    _mm256_storeu_pd(tops, top);
    _mm256_storeu_si256((__m256i *)lane_idx, best_idx);
    double obj_min = HUGE_VAL, gmax2 = -HUGE_VAL;
    long long gmin_idx = -1;
    for (int k = 0; k < 4; k++) {
        if (lane_idx[k] >= 0 && (gmin_idx < 0 || lanes[k] < obj_min || (lanes[k] == obj_min && lane_idx[k] > gmin_idx))) {
            obj_min = lanes[k];
            gmin_idx = lane_idx[k];
        }
        gmax2 = tops[k] > gmax2 ? tops[k] : gmax2;
    }
    for (; j < active; j++) {
        const double v = yd[j] * G[j];
        const double gd = gmax + v;
        if (lo[j] && v >= gmax2) gmax2 = v;
        if (lo[j] && gd > 0) {
            const double qc = (qd_i + QD[j]) - (two_yi * yd[j]) * q_i[j];
            const double obj = -(gd * gd) / (qc > 0 ? qc : TAU);
            if (obj <= obj_min) {
                obj_min = obj;
                gmin_idx = j;
            }
        }
    }
    *gmax2_out = gmax2;
    return (int)gmin_idx;
}

__attribute__((target("avx2"))) static void update_g_avx2(Solver *s, const float *q_i,
                                                         const float *q_j, double delta_i,
                                                         double delta_j) {
    double *G = s->G;
    const int active = s->active_size;
    const __m256d di = _mm256_set1_pd(delta_i), dj = _mm256_set1_pd(delta_j);
    int k = 0;
    for (; k + 4 <= active; k += 4) {
        const __m256d a = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(q_i + k)), di);
        const __m256d b = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(q_j + k)), dj);
        _mm256_storeu_pd(G + k, _mm256_add_pd(_mm256_loadu_pd(G + k), _mm256_add_pd(a, b)));
    }
    for (; k < active; k++) G[k] += q_i[k] * delta_i + q_j[k] * delta_j;
}
#endif
