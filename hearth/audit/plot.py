"""The routing timeline as a PNG (CLI, reports) or SVG (web UI): which models answered each month,
and the rerouted share."""

from __future__ import annotations

from pathlib import Path

from hearth.audit.routing import Bucket, RoutingAudit

# Chinese titles and model names must not render as empty boxes: CJK fonts before DejaVu Sans.
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Source Han Sans SC", "DejaVu Sans"]
TOP_MODELS = 8


def _month_range(months: list[str]) -> list[str]:
    """Every month from the first to the last, so gaps in use show as gaps."""
    if not months:
        return []
    y, m = map(int, months[0].split("-"))
    end = tuple(map(int, months[-1].split("-")))
    out = []
    while (y, m) <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _figure(audit: RoutingAudit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["font.sans-serif"] = CJK_FONTS
    matplotlib.rcParams["font.family"] = "sans-serif"

    months = _month_range(sorted(m for m in audit.months if m != "unknown"))
    empty = Bucket()
    top = [m for m, _ in audit.total.served.most_common(TOP_MODELS)]
    fig, ax = plt.subplots(figsize=(min(14, max(8, len(months) * 0.3 + 3)), 5.5), dpi=120)
    bottom = [0] * len(months)
    cmap = plt.get_cmap("tab10")
    series = top + (["other"] if len(audit.total.served) > len(top) else [])
    for i, model in enumerate(series):
        values = []
        for m in months:
            served = audit.months.get(m, empty).served
            values.append(
                sum(n for k, n in served.items() if k not in top) if model == "other" else served.get(model, 0)
            )
        ax.bar(months, values, bottom=bottom, label=model, color=cmap(i % 10), width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylim(0, max(bottom, default=0) * 1.08 or 1)
    ax.set_ylabel("replies")
    ax.set_title("Which model answered, per month (UTC)")
    ax.tick_params(axis="x", rotation=60, labelsize=8)
    step = max(1, len(months) // 36)
    ax.set_xticks(range(0, len(months), step), months[::step])
    handles, labels = ax.get_legend_handles_labels()

    share = [audit.months.get(m, empty).share for m in months]
    if any(s is not None for s in share):
        ax2 = ax.twinx()
        xs = [m for m, s in zip(months, share, strict=True) if s is not None]
        ys = [100 * s for s in share if s is not None]
        ax2.plot(xs, ys, color="crimson", marker="o", linewidth=2, label="served ≠ requested (%)")
        ax2.set_ylabel("served by another model than requested (%)", color="crimson")
        ax2.set_ylim(0, max(5.0, max(ys) * 1.2))
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    fig.legend(handles, labels, loc="lower center", fontsize=8, ncol=min(5, len(labels)), frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.035 * ((len(labels) - 1) // 5), 1, 1))
    return fig


def plot_timeline(audit: RoutingAudit, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig = _figure(audit)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def timeline_svg(audit: RoutingAudit) -> str:
    """The same chart as SVG text for the web page. Text stays text (`svg.fonttype: none`), so the
    browser draws it with its own fonts (CJK included) and it scales on a phone; matplotlib escapes
    every label, so a hostile model name cannot become markup."""
    import io

    import matplotlib
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "hearth"}):
        fig = _figure(audit)
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
    plt.close(fig)
    return buf.getvalue()
