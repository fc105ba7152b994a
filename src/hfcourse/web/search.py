"""Full-text search over the course, with Chinese word segmentation, and the concept index.

Documents are the parts of each section between `##` headings (a knowledge point, 常见问题与陷阱, ...).
Text is segmented with jieba's search mode (so 显存 / 量化 / 分片 are terms of their own) and English
identifiers are kept whole (`BitsAndBytesConfig`, `eval_strategy`), lower-cased; ranking is BM25.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from ..content.model import Course

IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
CJK_RE = re.compile(r"[\u4e00-\u9fff]+")
# Domain terms jieba does not know as words; registering them keeps them whole.
TERMS = ["显存", "量化", "分片", "反量化", "微调", "预训练", "分词器", "词表", "注意力", "梯度累积", "混合精度",
         "张量并行", "流水线并行", "数据并行", "检查点", "推理", "解码", "束搜索", "采样", "温度", "缓存", "离线",
         "令牌", "掩码", "位置编码", "低秩", "适配器", "蒸馏", "吞吐", "延迟"]
K1, B = 1.5, 0.75


@dataclass
class Doc:
    section_id: str
    chapter: int
    level: int
    anchor: str
    title: str
    section_title: str
    text: str


_jieba = None


def _seg():
    global _jieba
    if _jieba is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        for t in TERMS:
            jieba.add_word(t, freq=20000)
        _jieba = jieba
    return _jieba


def tokens(text: str) -> list[str]:
    out = [m.group(0).lower() for m in IDENT_RE.finditer(text)]
    for run in CJK_RE.findall(text):
        out += [w for w in _seg().cut_for_search(run) if w.strip()]
    # identifiers with dots or underscores also match by their pieces (AutoModel.from_pretrained)
    out += [p.lower() for m in IDENT_RE.finditer(text) for p in re.split(r"[._]", m.group(0)) if len(p) > 1]
    return out


def _plain(markdown: str) -> str:
    text = re.sub(r"^:[\w-]+:.*$", "", markdown, flags=re.M)  # directive options
    text = re.sub(r"[`*]", "", text)  # inline code and emphasis marks: keep the words, drop the markup
    text = re.sub(r"[#>|]", " ", text)
    return re.sub(r"[ \t]+", " ", text)


class SearchIndex:
    def __init__(self, course: Course):
        self.docs: list[Doc] = []
        for ch in course.chapters:
            for s in ch.sections:
                for title, anchor, body in _split(s.body):
                    self.docs.append(Doc(s.id, ch.number, ch.level, anchor, title or s.title, s.title, _plain(body)))
        self.tf: list[Counter] = []
        df: Counter = Counter()
        for d in self.docs:
            c = Counter(tokens(d.title + " " + d.title + " " + d.text))  # a title counts twice
            self.tf.append(c)
            df.update(c.keys())
        n = max(len(self.docs), 1)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.avg = sum(sum(c.values()) for c in self.tf) / n

    def search(self, query: str, limit: int = 20) -> list[dict]:
        q = [t for t in dict.fromkeys(tokens(query[:200]))]
        if not q:
            return []
        scored = []
        for i, c in enumerate(self.tf):
            length = sum(c.values())
            s = sum(self.idf.get(t, 0) * c[t] * (K1 + 1) / (c[t] + K1 * (1 - B + B * length / self.avg))
                    for t in q if t in c)
            if s > 0:
                scored.append((s, i))
        scored.sort(reverse=True)
        out = []
        for s, i in scored[:limit]:
            d = self.docs[i]
            out.append({"section_id": d.section_id, "chapter": d.chapter, "anchor": d.anchor, "title": d.title,
                        "section_title": d.section_title, "score": round(s, 3),
                        "url": f"/c/{d.chapter}/{d.section_id}" + (f"#{d.anchor}" if d.anchor else ""), "snippet": snippet(d.text, query)})
        return out


def _split(body: str) -> list[tuple[str, str, str]]:
    from ..content.parse import POINT_ID_RE, slugify

    parts, title, anchor, buf = [], "", "", []
    for line in body.split("\n"):
        if line.startswith("## "):
            if buf:
                parts.append((title, anchor, "\n".join(buf)))
            title = line[3:].strip()
            m = POINT_ID_RE.match(title)
            anchor, buf = (m["id"] if m else slugify(title)), []
        else:
            buf.append(line)
    if buf:
        parts.append((title, anchor, "\n".join(buf)))
    return parts


def snippet(text: str, query: str, width: int = 70) -> str:
    """An escaped excerpt around the first match, matches wrapped in <mark>."""
    terms = sorted({t for t in tokens(query) if len(t) > 1} | {query.strip()}, key=len, reverse=True)
    terms = [t for t in terms if t]
    low = text.lower()
    # centre on the whole query when it occurs (an API name), else on the first of its pieces
    whole = low.find(query.strip().lower()) if query.strip() else -1
    pos = whole if whole >= 0 else min((p for t in terms if (p := low.find(t.lower())) >= 0), default=0)
    start = max(0, pos - width)
    excerpt = text[start : pos + width * 2].replace("\n", " ")
    escaped = html.escape(excerpt)
    if terms:  # one pass, longest term first, so marks never nest
        pattern = "|".join(re.escape(html.escape(t)) for t in terms)
        escaped = re.sub(pattern, lambda m: f"<mark>{m.group(0)}</mark>", escaped, flags=re.I)
    return ("…" if start else "") + escaped + "…"


def concept_index(course: Course) -> list[dict]:
    """term → every place it appears (inline code and bold terms), ordered by depth level then chapter."""
    places: dict[str, list] = defaultdict(list)
    for ch in course.chapters:
        for s in ch.sections:
            for title, anchor, body in _split(s.body):
                found = set(re.findall(r"`([^`\n]{2,40})`", body)) | set(re.findall(r"\*\*([^*\n]{2,20})\*\*", body))
                for term in found:
                    term = term.strip()
                    if term and not term.startswith(("http", "$")):
                        places[term].append({"chapter": ch.number, "level": ch.level, "section_id": s.id,
                                             "title": title or s.title, "url": f"/c/{ch.number}/{s.id}" + (f"#{anchor}" if anchor else "")})
    out = []
    for term, where in places.items():
        where.sort(key=lambda p: (p["level"], p["chapter"], p["section_id"]))
        out.append({"term": term, "places": where})
    out.sort(key=lambda t: t["term"].lower())
    return out
