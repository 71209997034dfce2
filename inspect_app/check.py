"""``inspect-app check``: does the live installation hold together?

After a crash (power cut at a county office, a killed process) an operator wants to
know, without reading code: is the database sound, does every photo record have its
files, are the files what their names say, does every finding's status agree with
its history. Each check yields findings; none of them changes anything.
"""

import hashlib
import random
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from inspect_app.extensions import db
from inspect_app.findings.models import Finding, RectificationEvent
from inspect_app.photos.models import Photo
from inspect_app.photos.storage import MediaStore


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def database_integrity(report: Report) -> None:
    if db.engine.dialect.name == "sqlite":
        result = db.session.execute(text("PRAGMA integrity_check")).scalars().all()
        if result != ["ok"]:
            report.problems.append("SQLite 完整性检查失败: " + "; ".join(result[:5]))
        broken = db.session.execute(text("PRAGMA foreign_key_check")).all()
        if broken:
            report.problems.append(f"{len(broken)} 条记录引用了不存在的记录 (foreign keys)")
    else:
        db.session.execute(text("SELECT 1"))
    report.notes.append(f"数据库 {db.engine.dialect.name} 可读")


def statuses_agree_with_history(report: Report) -> None:
    last = (
        select(RectificationEvent.to_status)
        .where(RectificationEvent.finding_id == Finding.id)
        .order_by(RectificationEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    bad = db.session.scalars(
        select(Finding.id).where(Finding.status != func.coalesce(last, "")).limit(20)
    ).all()
    if bad:
        report.problems.append(f"问题状态与整改记录不一致: finding {', '.join(map(str, bad))}")


def photos_against_files(report: Report, store: MediaStore, sample: int | None) -> None:
    """Every photo row has its original and both variants; a sample is hashed again."""
    rows = db.session.execute(select(Photo.sha256, Photo.size_bytes)).all()
    missing, truncated = [], []
    for sha, size in rows:
        original = store.path(sha)
        if not original.is_file():
            missing.append(sha)
            continue
        if original.stat().st_size != size:
            truncated.append(sha)
        for variant in ("report", "thumb"):
            if not store.path(sha, variant).is_file():
                missing.append(f"{sha} ({variant})")
    if missing:
        report.problems.append(f"{len(missing)} 个照片文件缺失: {', '.join(missing[:5])}")
    if truncated:
        report.problems.append(f"{len(truncated)} 个照片文件大小不符: {', '.join(truncated[:5])}")
    healthy = [sha for sha, _ in rows if sha not in set(missing) | set(truncated)]
    chosen = healthy if sample is None else random.sample(healthy, min(sample, len(healthy)))
    wrong = []
    for sha in chosen:
        digest = hashlib.sha256()
        with open(store.path(sha), "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != sha:
            wrong.append(sha)
    if wrong:
        report.problems.append(f"{len(wrong)} 个照片内容与编号不符: {', '.join(wrong[:5])}")
    report.notes.append(f"照片记录 {len(rows)} 条，校验哈希 {len(chosen)} 个")

    known = {sha for sha, _ in rows}
    orphans = [
        p.name for p in (store.root / "originals").rglob("*") if p.is_file() and p.name not in known
    ]
    if orphans:
        # An original renamed into place just before a crash, its row never committed:
        # harmless, the phone's retry adopts it.
        report.notes.append(f"{len(orphans)} 个照片文件尚无记录（上传中断，重传即可恢复）")
    partials = [p for p in (store.root / "partial").glob("*") if not p.name.endswith(".lock")]
    if partials:
        report.notes.append(f"{len(partials)} 个未完成的续传文件")


def run(store: MediaStore, sample: int | None = 50) -> Report:
    report = Report()
    database_integrity(report)
    statuses_agree_with_history(report)
    photos_against_files(report, store, sample)
    return report
