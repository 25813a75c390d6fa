"""Signal families: coverage and redundant column pairs, figure for figure against a plain-Python
reference of the original project's signal-mix audit (VMAFx ``ai/scripts/signal_mix_audit.py``).

The reference below is written from that tool's documented behaviour, not from its code: the
family keys and name patterns, "numeric" meaning every present value is a number, finite ratio and
population moments over every row, healthy = finite ratio ≥ the minimum and std > 1e-12, Pearson r
over the rows where both columns are finite (undefined under 3 rows or with a flat side), and
redundant = |r| ≥ the threshold, listed by decreasing |r|. The tables are shaped like that tool's
inputs (JSONL/Parquet feature tables with ``src``, VMAF features, a target, metadata and strings)
and generated with fixed seeds.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from second_opinion.audit.corpus import FloatArray, load_corpus
from second_opinion.audit.families import FamilyAudit, audit_families
from second_opinion.audit.options import build_options
from second_opinion.audit.output import write_report
from second_opinion.audit.report import audit_json
from second_opinion.audit.run import run_audit
from second_opinion.errors import UsageError

Row = dict[str, Any]

# --- the reference -------------------------------------------------------------------------------

REFERENCE_FAMILIES: dict[str, list[str]] = {
    "canonical_fr": [
        r"^adm2(_(mean|p10|p90|std))?$",
        r"^adm_scale[0-3](_(mean|p10|p90|std))?$",
        r"^vif_scale[0-3](_(mean|p10|p90|std))?$",
        r"^motion[23]?(_(mean|p10|p90|std))?$",
        "vmaf",
    ],
    "error_energy": ["psnr", "mse", "rmse", "error_energy"],
    "structural_similarity": [r"(^|_)ssim($|_)", "ms_ssim", "msssim", "iw_ssim"],
    "texture_deep_perceptual": ["ssimulacra2", "lpips", "dists", "deep", "texture", "vgg"],
    "color_chroma": ["ciede", "deltae", "chroma", "_cb$", "_cr$", "color", "primaries"],
    "banding_tone_mapping": [
        *("cambi", "band", "pq", "hlg", "tone", "transfer", "maxcll", "maxfall", "clip"),
    ],
    "temporal_flicker": [
        *("motion", "speed_temporal", "flicker", "exposure", "shot", "transnet", "scene"),
        *("_p10$", "_p90$", "_std$"),
    ],
    "saliency_roi": ["saliency", "mobilesal", "u2net", "roi", "attention", "mask"],
    "hdr_display_panel": [
        *("hdr", "bitdepth", "pix_fmt", "eotf", "bt2020", "bt2100", "luminance", "nit"),
        *("panel", "display", "mastering", "peak"),
    ],
    "source_geometry_content": [
        *(r"(^|_)width$", r"(^|_)height$", "resolution", "duration", "framerate"),
        *("frame_count", "orientation", "category", "content"),
    ],
    "codec_encoder": [
        *("codec", "encoder", "preset", "tune", "crf", "qp", "bitrate", "rc_mode", "qsv"),
        *("nvenc", "amf", "svt", "x26[45]"),
    ],
    "no_reference_ugc": [
        *("mos", "dmos", "n_ratings", "std_dev", "ugc", "content", "category", "orientation"),
        *("brisque", "niqe", "piqe", "nima", "second_opinion", "dover", "q[_-]?align"),
        *("fast[_-]?vqa", "musiq", "clip[_-]?iqa", "maniqa"),
    ],
    "noise_grain_blur": ["noise", "grain", "blur", "sharp", "edge", "laplacian", "denoise"],
}
TARGETS = {"vmaf", "vmaf_score", "mos_raw_0_100", "mos", "dmos", "score"}
BOOKKEEPING = re.compile(
    "(^src$|sha|basename|path|filename|uuid|id$|timestamp|ingested|manifest|license|url|bucket"
    "|split|fold|corpus_version)",
    re.IGNORECASE,
)


def ref_families(column: str) -> list[str]:
    return [
        key
        for key, patterns in REFERENCE_FAMILIES.items()
        if any(re.search(p, column, re.IGNORECASE) for p in patterns)
    ]


def ref_primary(column: str) -> str:
    keys = ref_families(column)
    return keys[0] if keys else "uncategorized"


def ref_values(rows: list[Row], column: str) -> list[float]:
    return [math.nan if r.get(column) is None else float(r[column]) for r in rows]


def ref_moments(values: list[float]) -> dict[str, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return {"finite_ratio": 0.0, "std": math.nan}
    mean = sum(finite) / len(finite)
    std = math.sqrt(sum((v - mean) ** 2 for v in finite) / len(finite))
    return {
        "finite_ratio": len(finite) / len(values),
        "mean": mean,
        "std": std,
        "min": min(finite),
        "max": max(finite),
    }


def ref_pearson(xs: list[float], ys: list[float]) -> float:
    pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(x) and math.isfinite(y)]
    if len(pairs) < 3:
        return math.nan
    mx = sum(x for x, _ in pairs) / len(pairs)
    my = sum(y for _, y in pairs) / len(pairs)
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    syy = sum((y - my) ** 2 for _, y in pairs)
    if math.sqrt(sxx / len(pairs)) <= 1e-12 or math.sqrt(syy / len(pairs)) <= 1e-12:
        return math.nan
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    return sxy / math.sqrt(sxx * syy)


def reference(
    rows: list[Row], target: str, redundancy: float = 0.95, min_finite_ratio: float = 0.80
) -> dict[str, Any]:
    """The family figures of ``rows`` (every column in first-seen order)."""
    columns = list(dict.fromkeys(c for r in rows for c in r))
    numeric = [
        c
        for c in columns
        if all(isinstance(r.get(c), int | float) for r in rows if r.get(c) is not None)
        and any(r.get(c) is not None for r in rows)
    ]
    signals = [
        c for c in numeric if c != target and c.lower() not in TARGETS and not BOOKKEEPING.search(c)
    ]
    stats = {c: ref_moments(ref_values(rows, c)) for c in signals}
    coverage = {}
    for key in REFERENCE_FAMILIES:
        matched = [c for c in columns if key in ref_families(c)]
        in_signals = [c for c in matched if c in signals]
        healthy = [
            c
            for c in in_signals
            if stats[c]["finite_ratio"] >= min_finite_ratio and stats[c]["std"] > 1e-12
        ]
        status = "missing" if not matched else "weak" if not healthy else "covered"
        coverage[key] = {
            "status": status,
            "matched_columns": matched,
            "numeric_columns": in_signals,
            "healthy_columns": healthy,
        }
    pairs = []
    for i, left in enumerate(signals):
        for right in signals[i + 1 :]:
            r = ref_pearson(ref_values(rows, left), ref_values(rows, right))
            if not math.isnan(r) and abs(r) >= redundancy:
                pairs.append((left, right, ref_primary(left), ref_primary(right), r))
    pairs.sort(key=lambda p: -abs(p[4]))
    return {"signals": signals, "stats": stats, "coverage": coverage, "pairs": pairs}


# --- synthetic tables ----------------------------------------------------------------------------


def _with_r(rng: np.random.Generator, x: FloatArray, r: float) -> FloatArray:
    """A column whose sample Pearson r with ``x`` is ``r`` (up to rounding)."""
    zx = (x - x.mean()) / x.std()
    w = rng.normal(size=x.size)
    w -= w.mean()
    w -= (w @ zx) / (zx @ zx) * zx
    w /= w.std()
    return np.asarray(50.0 + 10.0 * (r * zx + math.sqrt(1.0 - r * r) * w), dtype=np.float64)


def feature_rows(seed: int, n: int = 120) -> list[Row]:
    """A feature table like the original's inputs: ids, VMAF features, targets, metadata."""
    rng = np.random.default_rng(seed)
    adm2 = rng.uniform(0.6, 1.0, n)
    psnr_y = rng.normal(38.0, 4.0, n)
    float_ssim = rng.normal(0.9, 0.03, n)
    noise = rng.normal(2.0, 0.5, n)
    columns: dict[str, Any] = {
        "src": [f"clip-{i:03d}.mp4" for i in range(n)],
        "clip_id": np.arange(n),  # bookkeeping: numeric, never a signal
        "vmaf": 100 * adm2 + rng.normal(0, 2, n),  # a target's name: never a signal
        "mos": 1 + 4 * adm2 + rng.normal(0, 0.3, n),
        "adm2": adm2,
        "vif_scale0": rng.uniform(0.2, 0.9, n),
        "vif_scale1": 2 * adm2 + rng.normal(0, 1e-3, n),  # redundant with adm2
        "motion2": rng.gamma(2.0, 2.0, n),
        "psnr_y": psnr_y,
        "psnr_hvs": _with_r(rng, psnr_y, 0.951),  # just above 0.95
        "float_ssim": float_ssim,
        "ssimulacra2": _with_r(rng, float_ssim, 0.949),  # just below 0.95
        "cambi": rng.uniform(0, 5, n),
        "band_score": rng.uniform(0, 1, n),
        "codec": [("libx264", "libsvtav1")[i % 2] for i in range(n)],  # text: matched, not numeric
        "bitdepth": np.full(n, 10.0),  # constant: not healthy
        "color_managed": [i % 3 == 0 for i in range(n)],  # true/false: 1/0, as in pandas
        "width": rng.choice([1280, 1920, 3840], n).astype(float),
        "noise_sigma": noise,
        "grain_level": _with_r(rng, noise, -0.9505),  # negative, above in magnitude
        "second_opinion_dover_score": rng.normal(60, 10, n),
        "so_niqe_score": rng.normal(5, 1, n),
    }
    rows = [{c: _cell(v, i) for c, v in columns.items()} for i in range(n)]
    for i in rng.choice(n, size=int(0.3 * n), replace=False):
        rows[i]["cambi"] = None  # 70 % finite: below the 80 % a healthy column needs
    for i in rng.choice(n, size=int(0.1 * n), replace=False):
        rows[i]["band_score"] = None  # 90 % finite: still healthy
    for i in rng.choice(n, size=5, replace=False):
        rows[i]["mos"] = None  # rows without a MOS still count for the families
    return rows


def _cell(values: Any, i: int) -> Any:
    value = values[i]
    if isinstance(value, str | bool):
        return value
    return int(value) if isinstance(value, np.integer) else float(value)


def write_rows(path: Path, rows: list[Row]) -> Path:
    if path.suffix == ".parquet":
        names = list(dict.fromkeys(c for r in rows for c in r))
        pq.write_table(pa.Table.from_pylist(rows, schema=None).select(names), path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def assert_matches(audit: FamilyAudit, expected: dict[str, Any]) -> None:
    """Every figure of ``audit`` equals the reference's."""
    assert list(audit.signal_columns) == expected["signals"]
    for coverage in audit.coverage:
        want = expected["coverage"][coverage.key]
        got = {
            "status": coverage.status,
            "matched_columns": list(coverage.matched),
            "numeric_columns": list(coverage.numeric),
            "healthy_columns": list(coverage.healthy),
        }
        assert got == want, coverage.key
    assert [c.key for c in audit.coverage] == list(REFERENCE_FAMILIES)
    for name, want in expected["stats"].items():
        stats = audit.stats[name]
        assert stats.finite_ratio == pytest.approx(want["finite_ratio"], abs=1e-12), name
        if "mean" in want:
            moments = (stats.mean, stats.std, stats.minimum, stats.maximum)
            assert moments == pytest.approx(
                (want["mean"], want["std"], want["min"], want["max"]), rel=1e-9, abs=1e-12
            ), name
    got_pairs = [(p.left, p.right, p.left_family, p.right_family) for p in audit.redundant]
    assert got_pairs == [p[:4] for p in expected["pairs"]]
    for pair, want in zip(audit.redundant, expected["pairs"], strict=True):
        assert pair.pearson == pytest.approx(want[4], abs=1e-9)


# --- coverage and redundancy against the reference -----------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
@pytest.mark.parametrize("seed", [1, 7, 2026])
def test_every_figure_matches_the_reference(tmp_path: Path, suffix: str, seed: int) -> None:
    rows = feature_rows(seed)
    corpus = load_corpus(write_rows(tmp_path / f"features{suffix}", rows), "mos")
    audit = audit_families(corpus)
    assert audit.rows == len(rows)  # every row, those without a MOS too
    assert_matches(audit, reference(rows, "mos"))


def test_statuses_cover_missing_weak_partial_and_full(tmp_path: Path) -> None:
    rows = feature_rows(3)
    audit = audit_families(load_corpus(write_rows(tmp_path / "f.jsonl", rows), "mos"))
    by_key = {c.key: c for c in audit.coverage}
    # no column's name matches
    assert audit.with_status("missing") == ("saliency_roi",)
    assert by_key["saliency_roi"].matched == ()
    # matched, but only by a text column / a constant one / the MOS itself
    assert by_key["codec_encoder"].matched == ("codec",)
    assert by_key["codec_encoder"].numeric == ()
    assert by_key["hdr_display_panel"].numeric == ("bitdepth",)
    assert by_key["hdr_display_panel"].healthy == ()
    assert audit.with_status("weak") == ("hdr_display_panel", "codec_encoder")
    # partial: cambi is 70 % finite (unhealthy), band_score 90 % (healthy)
    banding = by_key["banding_tone_mapping"]
    assert (banding.status, banding.numeric, banding.healthy) == (
        "covered",
        ("cambi", "band_score"),
        ("band_score",),
    )
    assert audit.stats["cambi"].finite_ratio == pytest.approx(0.7)
    # a true/false column is a number (1/0): it alone covers colour
    assert by_key["color_chroma"].healthy == ("color_managed",)
    assert audit.stats["color_managed"].mean == pytest.approx(40 / 120)
    # a scorer's joined column counts as no-reference evidence
    assert "second_opinion_dover_score" in by_key["no_reference_ugc"].healthy
    assert "so_niqe_score" in by_key["no_reference_ugc"].healthy
    # bookkeeping and target names are matched but are never signals
    assert {"src", "clip_id", "vmaf", "mos"}.isdisjoint(audit.signal_columns)
    assert "vmaf" in by_key["canonical_fr"].matched


def test_redundant_pairs_around_the_threshold(tmp_path: Path) -> None:
    rows = feature_rows(5)
    audit = audit_families(load_corpus(write_rows(tmp_path / "f.jsonl", rows), "mos"))
    found = {(p.left, p.right): p.pearson for p in audit.redundant}
    assert set(found) == {
        ("adm2", "vif_scale1"),
        ("psnr_y", "psnr_hvs"),
        ("noise_sigma", "grain_level"),
    }
    assert found[("psnr_y", "psnr_hvs")] == pytest.approx(0.951, abs=1e-9)
    assert found[("noise_sigma", "grain_level")] == pytest.approx(-0.9505, abs=1e-9)
    # 0.949 stays out; listed by decreasing |r|
    assert ("float_ssim", "ssimulacra2") not in found
    assert [abs(p.pearson) for p in audit.redundant] == sorted(
        (abs(p.pearson) for p in audit.redundant), reverse=True
    )
    assert audit.redundant[-1].left_family == "noise_grain_blur"


def test_a_pair_exactly_at_the_threshold_is_redundant(tmp_path: Path) -> None:
    rows = feature_rows(5)
    corpus = load_corpus(write_rows(tmp_path / "f.jsonl", rows), "mos")
    loose = audit_families(corpus, redundancy=0.9)
    r = next(p.pearson for p in loose.redundant if p.left == "psnr_y")
    at = audit_families(corpus, redundancy=abs(r))
    above = audit_families(corpus, redundancy=float(np.nextafter(abs(r), 1.0)))
    assert ("psnr_y", "psnr_hvs") in {(p.left, p.right) for p in at.redundant}
    assert ("psnr_y", "psnr_hvs") not in {(p.left, p.right) for p in above.redundant}


@pytest.mark.parametrize(("redundancy", "min_finite_ratio"), [(0.9, 0.5), (0.99, 0.95), (0.5, 0.8)])
def test_thresholds_match_the_reference(
    tmp_path: Path, redundancy: float, min_finite_ratio: float
) -> None:
    rows = feature_rows(11)
    corpus = load_corpus(write_rows(tmp_path / "f.jsonl", rows), "mos")
    audit = audit_families(corpus, redundancy=redundancy, min_finite_ratio=min_finite_ratio)
    assert_matches(audit, reference(rows, "mos", redundancy, min_finite_ratio))


def test_a_custom_mos_column_is_the_target_and_no_signal(tmp_path: Path) -> None:
    rows = feature_rows(2)
    for row in rows:
        row["quality"] = row.pop("mos")
    audit = audit_families(load_corpus(write_rows(tmp_path / "f.jsonl", rows), "quality"))
    assert audit.target == "quality"
    assert "quality" not in audit.signal_columns
    assert_matches(audit, reference(rows, "quality"))


def test_a_table_with_no_family_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    rows = [{"mos": float(m), "x1": float(a), "x2": float(b)} for m, a, b in rng.random((20, 3))]
    audit = audit_families(load_corpus(write_rows(tmp_path / "plain.jsonl", rows), "mos"))
    assert audit.signal_columns == ("x1", "x2")
    assert audit.with_status("missing") == tuple(
        k for k in REFERENCE_FAMILIES if k != "no_reference_ugc"
    )
    assert audit.with_status("weak") == ("no_reference_ugc",)  # only 'mos' matches: the target
    assert audit.redundant == ()
    assert_matches(audit, reference(rows, "mos"))


# --- the report, the library and the options -----------------------------------------------------

FAST = {"splits": 2, "bootstrap": 0, "model": "ridge", "plots": False}


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, list[Row]]:
    folder = tmp_path_factory.mktemp("families")
    rows = feature_rows(8)
    table = write_rows(folder / "features.jsonl", rows)
    options = build_options(**FAST, signals={"adm2": "adm2", "psnr": "psnr_*"})
    result = run_audit([f"feat={table}"], options)
    files = write_report(result, folder / "audit", plots=False)
    return audit_json(result), files.markdown, rows


def test_audit_json_has_the_families_section(
    reported: tuple[dict[str, Any], Path, list[Row]],
) -> None:
    report, _, rows = reported
    section = report["families"]["feat"]
    expected = reference(rows, "mos")
    assert section["rows"] == len(rows)
    assert (section["target"], section["redundancy_threshold"], section["min_finite_ratio"]) == (
        "mos",
        0.95,
        0.8,
    )
    assert section["signal_columns"] == expected["signals"]
    for key, want in expected["coverage"].items():
        assert {k: section["coverage"][key][k] for k in want} == want
    assert list(section["coverage"]) == list(REFERENCE_FAMILIES)
    assert section["missing"] == ["saliency_roi"]
    assert section["weak"] == ["hdr_display_panel", "codec_encoder"]
    pairs = [
        (p["left"], p["right"], p["left_family"], p["right_family"])
        for p in section["redundant_pairs"]
    ]
    assert pairs == [p[:4] for p in expected["pairs"]]
    assert section["column_stats"]["cambi"]["finite_ratio"] == pytest.approx(0.7)
    assert set(section["column_stats"]["bitdepth"]) == {"finite_ratio", "mean", "std", "min", "max"}
    assert section["column_stats"]["bitdepth"]["std"] == 0.0


def test_markdown_has_the_family_tables(reported: tuple[dict[str, Any], Path, list[Row]]) -> None:
    report, markdown, _ = reported
    text = markdown.read_text(encoding="utf-8")
    section = text.split("### Signal families")[1]
    assert "Missing: saliency_roi. Weak: hdr_display_panel, codec_encoder." in section
    assert (
        "| Saliency and regions of interest (saliency_roi) | missing | 0 / 0 / 0 | — |" in section
    )
    assert (
        "| Banding, transfer and tone mapping (banding_tone_mapping) | covered | 1 / 2 / 3 | "
        "clip_id, cambi, band_score |"  # 'clip' (clipping) matches clip_id, as in the original
    ) in section
    first = report["families"]["feat"]["redundant_pairs"][0]
    row = (
        f"| {first['left']} × {first['right']} | {first['left_family']} × "
        f"{first['right_family']} | {first['pearson']:.4f} |"
    )
    assert row in section.split("### Redundant column pairs")[1]
    html = (markdown.parent / "audit.html").read_text(encoding="utf-8")
    assert "<h3>Signal families</h3>" in html
    assert "<td>Saliency and regions of interest (saliency_roi)</td><td>missing</td>" in html


def test_the_family_options_are_checked() -> None:
    with pytest.raises(UsageError) as ratio:
        build_options(min_finite_ratio=1.5)
    assert ratio.value.message == (
        "invalid audit options:\n  min_finite_ratio: Input should be less than or equal to 1 "
        "(got 1.5)"
    )
    with pytest.raises(UsageError) as threshold:
        build_options(family_redundancy=0)
    assert threshold.value.message == (
        "invalid audit options:\n  family_redundancy: Input should be greater than 0"
    )
