"""Typing for the compiled solver (_smo.c)."""

from typing_extensions import Buffer

AVX2: int

def svr(
    kernel: Buffer,
    diagonal: Buffer,
    target: Buffer,
    C: float,  # noqa: N803 - libsvm's name
    epsilon: float,
    tol: float,
    max_iter: int,
    coef: Buffer,
    simd: bool = True,
    /,
) -> tuple[float, int, int]: ...
