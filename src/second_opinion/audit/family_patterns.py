"""The signal families: which quality dimension a column speaks to, judged by its name.

The keys and the name patterns are those of the original project's signal-mix audit
(VMAFx ``ai/scripts/signal_mix_audit.py``), so a table gets the same family figures from both.
A pattern is a regular expression searched anywhere in the column name, case-insensitively; a
column may belong to several families, and its *primary* family is the first that matches (in
the order below), ``uncategorized`` when none does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNCATEGORIZED = "uncategorized"
"""The primary family of a column no family's pattern matches."""

TARGET_NAMES: tuple[str, ...] = ("vmaf", "vmaf_score", "mos_raw_0_100", "mos", "dmos", "score")
"""Column names (case-insensitive) that are quality targets, never signals."""

METADATA = re.compile(
    r"(^src$|sha|basename|path|filename|uuid|id$|timestamp|ingested|manifest|"
    r"license|url|bucket|split|fold|corpus_version)",
    re.IGNORECASE,
)
"""Names of bookkeeping columns (paths, hashes, ids, splits): numeric or not, never signals."""


@dataclass(frozen=True)
class SignalFamily:
    """One quality dimension and the column-name patterns that speak to it."""

    key: str
    label: str
    patterns: tuple[str, ...]

    def matches(self, column: str) -> bool:
        """Whether any pattern occurs in ``column`` (case-insensitive)."""
        return any(re.search(p, column, re.IGNORECASE) for p in self.patterns)


_POOLED = "(_(mean|p10|p90|std))?$"

FAMILIES: tuple[SignalFamily, ...] = (
    SignalFamily(
        "canonical_fr",
        "VMAF core: full-reference detail and motion",
        (
            rf"^adm2{_POOLED}",
            rf"^adm_scale[0-3]{_POOLED}",
            rf"^vif_scale[0-3]{_POOLED}",
            rf"^motion[23]?{_POOLED}",
            r"vmaf",
        ),
    ),
    SignalFamily(
        "error_energy", "Error energy (PSNR, MSE)", (r"psnr", r"mse", r"rmse", r"error_energy")
    ),
    SignalFamily(
        "structural_similarity",
        "Structural similarity (SSIM family)",
        (r"(^|_)ssim($|_)", r"ms_ssim", r"msssim", r"iw_ssim"),
    ),
    SignalFamily(
        "texture_deep_perceptual",
        "Texture and learned perceptual distance",
        (r"ssimulacra2", r"lpips", r"dists", r"deep", r"texture", r"vgg"),
    ),
    SignalFamily(
        "color_chroma",
        "Colour and chroma",
        (r"ciede", r"deltae", r"chroma", r"_cb$", r"_cr$", r"color", r"primaries"),
    ),
    SignalFamily(
        "banding_tone_mapping",
        "Banding, transfer and tone mapping",
        (r"cambi", r"band", r"pq", r"hlg", r"tone", r"transfer", r"maxcll", r"maxfall", r"clip"),
    ),
    SignalFamily(
        "temporal_flicker",
        "Temporal: motion, flicker, shots and pooled spread",
        (
            r"motion",
            r"speed_temporal",
            r"flicker",
            r"exposure",
            r"shot",
            r"transnet",
            r"scene",
            r"_p10$",
            r"_p90$",
            r"_std$",
        ),
    ),
    SignalFamily(
        "saliency_roi",
        "Saliency and regions of interest",
        (r"saliency", r"mobilesal", r"u2net", r"roi", r"attention", r"mask"),
    ),
    SignalFamily(
        "hdr_display_panel",
        "HDR, bit depth and display",
        (
            r"hdr",
            r"bitdepth",
            r"pix_fmt",
            r"eotf",
            r"bt2020",
            r"bt2100",
            r"luminance",
            r"nit",
            r"panel",
            r"display",
            r"mastering",
            r"peak",
        ),
    ),
    SignalFamily(
        "source_geometry_content",
        "Source geometry and content",
        (
            r"(^|_)width$",
            r"(^|_)height$",
            r"resolution",
            r"duration",
            r"framerate",
            r"frame_count",
            r"orientation",
            r"category",
            r"content",
        ),
    ),
    SignalFamily(
        "codec_encoder",
        "Codec and rate control",
        (
            r"codec",
            r"encoder",
            r"preset",
            r"tune",
            r"crf",
            r"qp",
            r"bitrate",
            r"rc_mode",
            r"qsv",
            r"nvenc",
            r"amf",
            r"svt",
            r"x26[45]",
        ),
    ),
    SignalFamily(
        "no_reference_ugc",
        "No-reference and subjective (UGC, MOS)",
        (
            r"mos",
            r"dmos",
            r"n_ratings",
            r"std_dev",
            r"ugc",
            r"content",
            r"category",
            r"orientation",
            r"brisque",
            r"niqe",
            r"piqe",
            r"nima",
            r"second_opinion",
            r"dover",
            r"q[_-]?align",
            r"fast[_-]?vqa",
            r"musiq",
            r"clip[_-]?iqa",
            r"maniqa",
        ),
    ),
    SignalFamily(
        "noise_grain_blur",
        "Noise, grain, blur and sharpness",
        (r"noise", r"grain", r"blur", r"sharp", r"edge", r"laplacian", r"denoise"),
    ),
)
"""Every family, in report order (the order decides a column's primary family)."""


def families_of(column: str) -> tuple[str, ...]:
    """The keys of the families ``column`` belongs to, in :data:`FAMILIES` order."""
    return tuple(f.key for f in FAMILIES if f.matches(column))


def primary_family(column: str) -> str:
    """The first family ``column`` belongs to, or :data:`UNCATEGORIZED`."""
    keys = families_of(column)
    return keys[0] if keys else UNCATEGORIZED


def is_signal_name(column: str, target: str) -> bool:
    """Whether a numeric column named ``column`` counts as a signal: not the target, not a
    target's name, not bookkeeping (:data:`METADATA`)."""
    if column == target or column.lower() in TARGET_NAMES:
        return False
    return METADATA.search(column) is None
