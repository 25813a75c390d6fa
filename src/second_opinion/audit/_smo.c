/*
 * second_opinion.audit._smo: the epsilon-SVR dual solved on a precomputed kernel by the SMO of
 * Fan, Chen and Lin (JMLR 6, 2005) with second-order working-set selection and shrinking, taking
 * exactly the steps libsvm takes (as scikit-learn builds it: per-variable C, max_iter), so that
 * the solution is the same to the last bit. Written for this project from the published
 * algorithm; see docs/adr/0025-own-smo-solver.md for what "the same steps" requires and how the
 * tests hold it to libsvm.
 *
 * What differs from libsvm is only how the work is done: the kernel is one dense float32 matrix
 * (libsvm's Qfloat; libsvm rounds each kernel value to it the same way), read in place rather
 * than through an LRU cache of rows; the column of the first working variable is gathered once
 * per iteration rather than twice; and where the CPU has AVX2, the scans for the working pair,
 * the column gathers and the gradient update run four or eight variables at a time. Every
 * floating-point expression is evaluated as libsvm writes it, in the same precision, each
 * variable's on its own (the vector loops never add across variables), and the build passes
 * -ffp-contract=off: no fused multiply-adds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TAU 1e-12
#if defined(__x86_64__) && defined(__GNUC__)
#define SMO_AVX2 1
#else
#define SMO_AVX2 0
#endif
enum { LOWER_BOUND = 0, UPPER_BOUND = 1, FREE = 2 };

typedef struct {
    int n;             /* training rows */
    int l;             /* variables: 2n */
    int active_size;
    const float *K;    /* n x n kernel, row-major, already rounded to float */
    signed char *y;    /* +1 for the first n variables, -1 for the rest (also SVR_Q's sign) */
    int *index;        /* the row of K each variable stands for */
    double *QD;        /* the kernel's diagonal per variable, in double */
    double *G;
    double *G_bar;
    double *alpha;
    double *p;
    double *C;
    char *status;
    int *active_set;
    float *buf_a;
    float *buf_b;
    double *yd;        /* y as double, for the vector loops */
    long long *up;     /* -1 where the variable is in I_up (may grow), else 0 */
    long long *low;    /* -1 where the variable is in I_low (may shrink), else 0 */
    unsigned *flip;    /* 0x80000000 where y is -1, else 0: the sign bit get_q flips */
    int simd;          /* the AVX2 loops (same results) */
    double eps;
    int unshrink;
} Solver;


#if SMO_AVX2
__attribute__((target("avx2"))) static void get_q_avx2(const Solver *s, int i, int len,
                                                      float *out);
#endif

/* Column i of Q, entries [0, len): Q[i][j] = y[i] y[j] K[index[i]][index[j]], in float. */
static void get_q(const Solver *s, int i, int len, float *out) {
#if SMO_AVX2
    if (s->simd) {
        get_q_avx2(s, i, len, out);
        return;
    }
#endif
    const float *row = s->K + (size_t)s->index[i] * (size_t)s->n;
    const signed char yi = s->y[i];
    const signed char *y = s->y;
    const int *index = s->index;
    for (int j = 0; j < len; j++) {
        const float v = row[index[j]];
        out[j] = (y[j] == yi) ? v : -v;
    }
}

static void update_status(Solver *s, int i) {
    if (s->alpha[i] >= s->C[i])
        s->status[i] = UPPER_BOUND;
    else if (s->alpha[i] <= 0)
        s->status[i] = LOWER_BOUND;
    else
        s->status[i] = FREE;
    const int plus = s->y[i] == +1;
    s->up[i] = (plus ? s->status[i] != UPPER_BOUND : s->status[i] != LOWER_BOUND) ? -1 : 0;
    s->low[i] = (plus ? s->status[i] != LOWER_BOUND : s->status[i] != UPPER_BOUND) ? -1 : 0;
}

#define IS_UPPER(s, i) ((s)->status[i] == UPPER_BOUND)
#define IS_LOWER(s, i) ((s)->status[i] == LOWER_BOUND)
#define IS_FREE(s, i) ((s)->status[i] == FREE)

#define SWAP(type, a, b) do { type t_ = (a); (a) = (b); (b) = t_; } while (0)

static void swap_index(Solver *s, int i, int j) {
    SWAP(signed char, s->y[i], s->y[j]);
    SWAP(int, s->index[i], s->index[j]);
    SWAP(double, s->QD[i], s->QD[j]);
    SWAP(double, s->G[i], s->G[j]);
    SWAP(char, s->status[i], s->status[j]);
    SWAP(double, s->alpha[i], s->alpha[j]);
    SWAP(double, s->p[i], s->p[j]);
    SWAP(int, s->active_set[i], s->active_set[j]);
    SWAP(double, s->G_bar[i], s->G_bar[j]);
    SWAP(double, s->C[i], s->C[j]);
    SWAP(double, s->yd[i], s->yd[j]);
    SWAP(long long, s->up[i], s->up[j]);
    SWAP(long long, s->low[i], s->low[j]);
    SWAP(unsigned, s->flip[i], s->flip[j]);
}

static void reconstruct_gradient(Solver *s) {
    const int l = s->l;
    const int active = s->active_size;
    if (active == l) return;
    int nr_free = 0;
    for (int j = active; j < l; j++) s->G[j] = s->G_bar[j] + s->p[j];
    for (int j = 0; j < active; j++)
        if (IS_FREE(s, j)) nr_free++;
    float *q = s->buf_a;
    if ((long long)nr_free * l > 2LL * active * (l - active)) {
        for (int i = active; i < l; i++) {
            get_q(s, i, active, q);
            for (int j = 0; j < active; j++)
                if (IS_FREE(s, j)) s->G[i] += s->alpha[j] * q[j];
        }
    } else {
        for (int i = 0; i < active; i++)
            if (IS_FREE(s, i)) {
                get_q(s, i, l, q);
                const double alpha_i = s->alpha[i];
                for (int j = active; j < l; j++) s->G[j] += alpha_i * q[j];
            }
    }
}

/* i: the last index of the largest -y[t] G[t] over I_up (libsvm's `>=` scan), -1 if none;
 * *gmax its value. */
static int select_i_scalar(const Solver *s, double *gmax_out) {
    const int active = s->active_size;
    const double *G = s->G;
    const signed char *y = s->y;
    const char *status = s->status;
    double gmax = -HUGE_VAL;
    int gmax_idx = -1;
    for (int t = 0; t < active; t++) {
        if (y[t] == +1) {
            if (status[t] != UPPER_BOUND && -G[t] >= gmax) {
                gmax = -G[t];
                gmax_idx = t;
            }
        } else {
            if (status[t] != LOWER_BOUND && G[t] >= gmax) {
                gmax = G[t];
                gmax_idx = t;
            }
        }
    }
    *gmax_out = gmax;
    return gmax_idx;
}

/* j: the last index of the smallest obj_diff over I_low with a positive grad_diff (libsvm's `<=`
 * scan), -1 if none; *gmax2_out the largest y[j] G[j] over I_low. */
static int select_j_scalar(const Solver *s, int i, double gmax, const float *q_i,
                           double *gmax2_out) {
    const int active = s->active_size;
    const double *G = s->G;
    const signed char *y = s->y;
    const char *status = s->status;
    const double *QD = s->QD;
    double gmax2 = -HUGE_VAL, obj_diff_min = HUGE_VAL;
    int gmin_idx = -1;
    for (int j = 0; j < active; j++) {
        if (y[j] == +1) {
            if (status[j] != LOWER_BOUND) {
                const double grad_diff = gmax + G[j];
                if (G[j] >= gmax2) gmax2 = G[j];
                if (grad_diff > 0) {
                    double obj_diff;
                    const double quad_coef = QD[i] + QD[j] - 2.0 * y[i] * q_i[j];
                    if (quad_coef > 0)
                        obj_diff = -(grad_diff * grad_diff) / quad_coef;
                    else
                        obj_diff = -(grad_diff * grad_diff) / TAU;
                    if (obj_diff <= obj_diff_min) {
                        gmin_idx = j;
                        obj_diff_min = obj_diff;
                    }
                }
            }
        } else {
            if (status[j] != UPPER_BOUND) {
                const double grad_diff = gmax - G[j];
                if (-G[j] >= gmax2) gmax2 = -G[j];
                if (grad_diff > 0) {
                    double obj_diff;
                    const double quad_coef = QD[i] + QD[j] + 2.0 * y[i] * q_i[j];
                    if (quad_coef > 0)
                        obj_diff = -(grad_diff * grad_diff) / quad_coef;
                    else
                        obj_diff = -(grad_diff * grad_diff) / TAU;
                    if (obj_diff <= obj_diff_min) {
                        gmin_idx = j;
                        obj_diff_min = obj_diff;
                    }
                }
            }
        }
    }
    *gmax2_out = gmax2;
    return gmin_idx;
}

static void update_g_scalar(Solver *s, const float *q_i, const float *q_j, double delta_i,
                            double delta_j) {
    double *G = s->G;
    for (int k = 0; k < s->active_size; k++) G[k] += q_i[k] * delta_i + q_j[k] * delta_j;
}

#include "_smo_avx2.h"

/* 1 when optimal; otherwise 0 with the pair in *out_i, *out_j and Q's column of *out_i (over
 * the active set) left in q_i. libsvm's second-order selection (WSS 3 of Fan et al.). */
static int select_working_set(Solver *s, int *out_i, int *out_j, float *q_i) {
    double gmax, gmax2;
#if SMO_AVX2
    const int i = s->simd ? select_i_avx2(s, &gmax) : select_i_scalar(s, &gmax);
#else
    const int i = select_i_scalar(s, &gmax);
#endif
    if (i == -1) return 1; /* gmax = -inf: no grad_diff is positive, libsvm returns 1 too */
    get_q(s, i, s->active_size, q_i);
#if SMO_AVX2
    const int j = s->simd ? select_j_avx2(s, i, gmax, q_i, &gmax2)
                          : select_j_scalar(s, i, gmax, q_i, &gmax2);
#else
    const int j = select_j_scalar(s, i, gmax, q_i, &gmax2);
#endif
    if (gmax + gmax2 < s->eps || j == -1) return 1;
    *out_i = i;
    *out_j = j;
    return 0;
}

static int be_shrunk(const Solver *s, int i, double gmax1, double gmax2) {
    if (IS_UPPER(s, i)) {
        if (s->y[i] == +1) return -s->G[i] > gmax1;
        return -s->G[i] > gmax2;
    }
    if (IS_LOWER(s, i)) {
        if (s->y[i] == +1) return s->G[i] > gmax2;
        return s->G[i] > gmax1;
    }
    return 0;
}

static void do_shrinking(Solver *s) {
    double gmax1 = -HUGE_VAL, gmax2 = -HUGE_VAL;
    for (int i = 0; i < s->active_size; i++) {
        if (s->y[i] == +1) {
            if (!IS_UPPER(s, i) && -s->G[i] >= gmax1) gmax1 = -s->G[i];
            if (!IS_LOWER(s, i) && s->G[i] >= gmax2) gmax2 = s->G[i];
        } else {
            if (!IS_UPPER(s, i) && -s->G[i] >= gmax2) gmax2 = -s->G[i];
            if (!IS_LOWER(s, i) && s->G[i] >= gmax1) gmax1 = s->G[i];
        }
    }
    if (!s->unshrink && gmax1 + gmax2 <= s->eps * 10) {
        s->unshrink = 1;
        reconstruct_gradient(s);
        s->active_size = s->l;
    }
    for (int i = 0; i < s->active_size; i++)
        if (be_shrunk(s, i, gmax1, gmax2)) {
            s->active_size--;
            while (s->active_size > i) {
                if (!be_shrunk(s, s->active_size, gmax1, gmax2)) {
                    swap_index(s, i, s->active_size);
                    break;
                }
                s->active_size--;
            }
        }
}

static double calculate_rho(const Solver *s) {
    int nr_free = 0;
    double ub = HUGE_VAL, lb = -HUGE_VAL, sum_free = 0;
    for (int i = 0; i < s->active_size; i++) {
        const double yG = s->y[i] * s->G[i];
        if (IS_UPPER(s, i)) {
            if (s->y[i] == -1)
                ub = ub < yG ? ub : yG;
            else
                lb = lb > yG ? lb : yG;
        } else if (IS_LOWER(s, i)) {
            if (s->y[i] == +1)
                ub = ub < yG ? ub : yG;
            else
                lb = lb > yG ? lb : yG;
        } else {
            ++nr_free;
            sum_free += yG;
        }
    }
    return nr_free > 0 ? sum_free / nr_free : (ub + lb) / 2;
}

/* Variable i left (was_upper) or reached its upper bound: G_bar loses or gains C_i Q_i. */
static void update_g_bar(Solver *s, int i, double C_i, int was_upper, float *q) {
    const int l = s->l;
    get_q(s, i, l, q);
    if (was_upper)
        for (int k = 0; k < l; k++) s->G_bar[k] -= C_i * q[k];
    else
        for (int k = 0; k < l; k++) s->G_bar[k] += C_i * q[k];
}

/* Solves; returns the iterations taken (*timed_out set when max_iter stopped it). */
static int solve(Solver *s, int max_iter, int *timed_out) {
    const int l = s->l;
    int iter = 0;
    int counter = (l < 1000 ? l : 1000) + 1;
    *timed_out = 0;
    float *q_i = s->buf_a;
    float *q_j = s->buf_b;
    for (;;) {
        if (max_iter != -1 && iter >= max_iter) {
            *timed_out = 1;
            break;
        }
        if (--counter == 0) {
            counter = l < 1000 ? l : 1000;
            do_shrinking(s);
        }
        int i = 0, j = 0;
        if (select_working_set(s, &i, &j, q_i) != 0) {
            reconstruct_gradient(s);
            s->active_size = l;
            if (select_working_set(s, &i, &j, q_i) != 0) break;
            counter = 1;
        }
        ++iter;
        const int active = s->active_size;
        get_q(s, j, active, q_j);
        double *alpha = s->alpha;
        const double C_i = s->C[i], C_j = s->C[j];
        const double old_alpha_i = alpha[i], old_alpha_j = alpha[j];
        if (s->y[i] != s->y[j]) {
            double quad_coef = s->QD[i] + s->QD[j] + 2 * q_i[j];
            if (quad_coef <= 0) quad_coef = TAU;
            const double delta = (-s->G[i] - s->G[j]) / quad_coef;
            const double diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if (diff > 0) {
                if (alpha[j] < 0) {
                    alpha[j] = 0;
                    alpha[i] = diff;
                }
            } else {
                if (alpha[i] < 0) {
                    alpha[i] = 0;
                    alpha[j] = -diff;
                }
            }
            if (diff > C_i - C_j) {
                if (alpha[i] > C_i) {
                    alpha[i] = C_i;
                    alpha[j] = C_i - diff;
                }
            } else {
                if (alpha[j] > C_j) {
                    alpha[j] = C_j;
                    alpha[i] = C_j + diff;
                }
            }
        } else {
            double quad_coef = s->QD[i] + s->QD[j] - 2 * q_i[j];
            if (quad_coef <= 0) quad_coef = TAU;
            const double delta = (s->G[i] - s->G[j]) / quad_coef;
            const double sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if (sum > C_i) {
                if (alpha[i] > C_i) {
                    alpha[i] = C_i;
                    alpha[j] = sum - C_i;
                }
            } else {
                if (alpha[j] < 0) {
                    alpha[j] = 0;
                    alpha[i] = sum;
                }
            }
            if (sum > C_j) {
                if (alpha[j] > C_j) {
                    alpha[j] = C_j;
                    alpha[i] = sum - C_j;
                }
            } else {
                if (alpha[i] < 0) {
                    alpha[i] = 0;
                    alpha[j] = sum;
                }
            }
        }
        const double delta_i = alpha[i] - old_alpha_i;
        const double delta_j = alpha[j] - old_alpha_j;
#if SMO_AVX2
        if (s->simd)
            update_g_avx2(s, q_i, q_j, delta_i, delta_j);
        else
            update_g_scalar(s, q_i, q_j, delta_i, delta_j);
#else
        update_g_scalar(s, q_i, q_j, delta_i, delta_j);
#endif

        const int ui = IS_UPPER(s, i), uj = IS_UPPER(s, j);
        update_status(s, i);
        update_status(s, j);
        if (ui != IS_UPPER(s, i)) update_g_bar(s, i, C_i, ui, q_i);
        if (uj != IS_UPPER(s, j)) update_g_bar(s, j, C_j, uj, q_j);
    }
    return iter;
}

static int get_buffer(PyObject *obj, Py_buffer *view, const char *name, const char *format,
                      Py_ssize_t items, int writable) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) != 0) return -1;
    if (strcmp(view->format, format) != 0 || view->len != items * view->itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd items of format '%s', got %zd bytes of '%s'",
                     name, items, format, view->len, view->format);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static int has_avx2(void) {
#if SMO_AVX2
    return __builtin_cpu_supports("avx2") != 0;
#else
    return 0;
#endif
}

PyDoc_STRVAR(svr_doc,
"svr(kernel, diagonal, target, C, epsilon, tol, max_iter, coef, simd=True)\n"
"    -> (rho, iterations, timed_out)\n\n"
"The epsilon-SVR dual on a precomputed kernel as libsvm solves it: kernel (n*n float32, C\n"
"order), diagonal (n float64: the kernel's diagonal before rounding), target (n float64);\n"
"coef (n float64, written): alpha - alpha* per row. max_iter -1: to convergence. simd: the\n"
"AVX2 loops where the CPU has them (the same results).");

static PyObject *svr(PyObject *self, PyObject *args) {
    PyObject *k_obj, *d_obj, *y_obj, *coef_obj;
    double c, epsilon, tol;
    int max_iter, simd = 1;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOdddiO|p", &k_obj, &d_obj, &y_obj, &c, &epsilon, &tol,
                          &max_iter, &coef_obj, &simd))
        return NULL;
    Py_buffer yv, kv, dv, cv;
    if (PyObject_GetBuffer(y_obj, &yv, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) return NULL;
    const Py_ssize_t n = yv.len / (Py_ssize_t)sizeof(double);
    if (strcmp(yv.format, "d") != 0 || n < 1 || n > 20000000) {
        PyBuffer_Release(&yv);
        PyErr_SetString(PyExc_ValueError, "target: expected a float64 vector of 1 or more rows");
        return NULL;
    }
    if (get_buffer(k_obj, &kv, "kernel", "f", n * n, 0) != 0) {
        PyBuffer_Release(&yv);
        return NULL;
    }
    if (get_buffer(d_obj, &dv, "diagonal", "d", n, 0) != 0) {
        PyBuffer_Release(&yv);
        PyBuffer_Release(&kv);
        return NULL;
    }
    if (get_buffer(coef_obj, &cv, "coef", "d", n, 1) != 0) {
        PyBuffer_Release(&yv);
        PyBuffer_Release(&kv);
        PyBuffer_Release(&dv);
        return NULL;
    }
    const int ni = (int)n, l = 2 * (int)n;
    Solver s;
    memset(&s, 0, sizeof(s));
    s.n = ni;
    s.l = l;
    s.active_size = l;
    s.K = (const float *)kv.buf;
    s.eps = tol;
    s.simd = simd && has_avx2();
    s.y = malloc((size_t)l);
    s.index = malloc(sizeof(int) * (size_t)l);
    s.QD = malloc(sizeof(double) * (size_t)l);
    s.G = malloc(sizeof(double) * (size_t)l);
    s.G_bar = malloc(sizeof(double) * (size_t)l);
    s.alpha = malloc(sizeof(double) * (size_t)l);
    s.p = malloc(sizeof(double) * (size_t)l);
    s.C = malloc(sizeof(double) * (size_t)l);
    s.status = malloc((size_t)l);
    s.active_set = malloc(sizeof(int) * (size_t)l);
    s.buf_a = malloc(sizeof(float) * (size_t)l);
    s.buf_b = malloc(sizeof(float) * (size_t)l);
    s.yd = malloc(sizeof(double) * (size_t)l);
    s.up = malloc(sizeof(long long) * (size_t)l);
    s.low = malloc(sizeof(long long) * (size_t)l);
    s.flip = malloc(sizeof(unsigned) * (size_t)l);
    double *rows = malloc(sizeof(double) * (size_t)l);
    PyObject *result = NULL;
    if (!s.y || !s.index || !s.QD || !s.G || !s.G_bar || !s.alpha || !s.p || !s.C || !s.status ||
        !s.active_set || !s.buf_a || !s.buf_b || !s.yd || !s.up || !s.low || !s.flip || !rows) {
        PyErr_NoMemory();
        goto done;
    }
    const double *target = (const double *)yv.buf;
    const double *diagonal = (const double *)dv.buf;
    for (int i = 0; i < ni; i++) {
        s.alpha[i] = 0;
        s.p[i] = epsilon - target[i];
        s.y[i] = 1;
        s.C[i] = 1.0 * c;
        s.alpha[i + ni] = 0;
        s.p[i + ni] = epsilon + target[i];
        s.y[i + ni] = -1;
        s.C[i + ni] = 1.0 * c;
        s.index[i] = i;
        s.index[i + ni] = i;
        s.QD[i] = diagonal[i];
        s.QD[i + ni] = diagonal[i];
    }
    for (int i = 0; i < l; i++) {
        s.yd[i] = s.y[i];
        s.flip[i] = s.y[i] == -1 ? 0x80000000u : 0u;
        update_status(&s, i);
        s.active_set[i] = i;
        s.G[i] = s.p[i];
        s.G_bar[i] = 0;
    }
    int timed_out = 0, iterations;
    Py_BEGIN_ALLOW_THREADS
    iterations = solve(&s, max_iter, &timed_out);
    Py_END_ALLOW_THREADS
    const double rho = calculate_rho(&s);
    for (int i = 0; i < l; i++) rows[s.active_set[i]] = s.alpha[i];
    double *coef = (double *)cv.buf;
    for (int i = 0; i < ni; i++) coef[i] = rows[i] - rows[i + ni];
    result = Py_BuildValue("(dii)", rho, iterations, timed_out);
done:
    free(s.y);
    free(s.index);
    free(s.QD);
    free(s.G);
    free(s.G_bar);
    free(s.alpha);
    free(s.p);
    free(s.C);
    free(s.status);
    free(s.active_set);
    free(s.buf_a);
    free(s.buf_b);
    free(s.yd);
    free(s.up);
    free(s.low);
    free(s.flip);
    free(rows);
    PyBuffer_Release(&yv);
    PyBuffer_Release(&kv);
    PyBuffer_Release(&dv);
    PyBuffer_Release(&cv);
    return result;
}

static PyMethodDef methods[] = {
    {"svr", svr, METH_VARARGS, svr_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_smo",
    "libsvm's epsilon-SVR solver, step for step, on a precomputed float32 kernel.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__smo(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "AVX2", has_avx2()) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
