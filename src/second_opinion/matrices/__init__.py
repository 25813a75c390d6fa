"""Reading bare score matrices: scorer outputs with no key column, in the corpus's row order.

Many scorers (BRISQUE, NIQE and VIDEVAL feature scripts, most MATLAB and NumPy pipelines) write
their output as a bare matrix: one row per clip, in the row order of the corpus table, one column
per score or feature, and no key. :func:`read_matrix` reads such a file into a
:class:`ScoreMatrix` (float64, clips as rows); aligning it to the corpus by row position is the
caller's job (issue 5 §2: row-aligned sidecars). :func:`matrix_variables` lists what a file holds.

Formats
    The suffix picks the family; for ``.mat`` the content picks the version
    (:mod:`~second_opinion.matrices.formats`).

    ==============================  =========  =============================================
    suffix                          format     read with
    ==============================  =========  =============================================
    ``.mat`` (MATLAB v4)            ``mat4``   ``scipy.io.loadmat``
    ``.mat`` (MATLAB v5, v6, v7)    ``mat5``   ``scipy.io.loadmat``
    ``.mat`` (MATLAB v7.3: HDF5)    ``mat73``  h5py; found by the HDF5 signature at byte 0 or
                                               512·2^k (after MATLAB's 512-byte text header)
    ``.npy``                        ``npy``    NumPy, ``allow_pickle=False``
    ``.npz``                        ``npz``    NumPy, ``allow_pickle=False``
    ``.csv`` ``.tsv`` ``.txt``      ``csv``    headerless delimited text; each may be
                                               gzip-compressed (``.csv.gz``)
    ==============================  =========  =============================================

    Each format's own rules are in its module: :mod:`~second_opinion.matrices.mat5` (MATLAB v4
    and v5, and the guard in front of scipy's v5 reader), :mod:`~second_opinion.matrices.mat73`
    (MATLAB v7.3), :mod:`~second_opinion.matrices.numpy_files` (``.npy``/``.npz``) and
    :mod:`~second_opinion.matrices.text` (headerless text). What they share (the
    :class:`ScoreMatrix`, shapes, choosing a variable, refusals) is in
    :mod:`~second_opinion.matrices.core`; densifying sparse matrices in
    :mod:`~second_opinion.matrices.sparse`; the entry points in
    :mod:`~second_opinion.matrices.read`.

Shapes
    ``source_shape`` is the shape as the writer saw it: MATLAB's own shape for ``.mat`` files (v7.3
    included, i.e. after undoing the transposition), NumPy's shape for ``.npy``/``.npz``, and
    (lines, values per line) for text. The returned ``values`` are always 2-D, rows = clips:

    * N×M → N×M (N clips, M scores); N×1 → N×1;
    * 1×N with N > 1 (a row vector, as MATLAB code often saves one score per clip) → N×1. A
      one-line text file is a row vector too. A genuine one-clip, M-score matrix cannot be told
      apart from it and is read as M×1; the corpus's row count shows the difference;
    * 1-D of length N → N×1; a 0-d scalar → 1×1. A 1×1 matrix is one clip with one score;
    * more than 2 dimensions, no rows or no columns → :class:`InputError` with the shape.

Variables
    ``.mat`` and ``.npz`` files hold named variables; ``variable`` picks one. Without it, the file
    must hold exactly one *candidate*: a numeric (including complex), logical or sparse variable,
    0-, 1- or 2-D, and not empty. Several candidates (a NIQE file with ``MOS`` and ``y_pred``, both
    1×1200) or none give an error that lists every variable with its shape and type and says to
    pass ``variable``; a name that does not exist gives the list and a did-you-mean. Names that
    start and end with ``__`` (scipy's ``__header__``, ``__version__``, ``__globals__``,
    ``__function_workspace__``) and v7.3's ``#refs#``/``#subsystem#`` are not variables. Formats
    holding one array (``.npy``, text) refuse a ``variable``.

Values and safety
    Nothing is unpickled or executed. Logical and integer matrices become float64 (integers
    beyond 2**53 round). Sparse matrices are densified, up to :data:`MAX_DENSE_CELLS` cells.
    NaN and ±inf are kept. A truncated or corrupt file raises :class:`InputError`, never another
    exception. What each format refuses, and how, is in the format's module.
"""
