"""Render page 1 of each PDF document from the demo data to PNG, for the README.

    .venv/bin/python scripts/readme_images.py docs/images

Uses a throw-away SQLite database filled by ``inspect-app demo`` (with the sample
photos of ../shared/photos), then the same code the API uses to make the documents.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from inspect_app import create_app, migrate
from inspect_app.campaigns.services import load_checklists
from inspect_app.demo import seed_demo
from inspect_app.documents import render
from inspect_app.extensions import db

ROOT = Path(__file__).resolve().parents[1]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="inspect-readme-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'demo.sqlite3'}",
            "MEDIA_DIR": str(tmp / "media"),
        }
    )
    with app.app_context():
        migrate.upgrade(db.engine)
        load_checklists(app.config["CHECKLISTS_DIR"])
        seed_demo(
            inspections=300, photos_dir=ROOT.parent / "shared" / "photos", media_dir=tmp / "media"
        )
        db.session.commit()
        from sqlalchemy import func, select

        from inspect_app.auth.models import User
        from inspect_app.campaigns.models import Campaign
        from inspect_app.findings.models import Finding, FindingPhoto

        office = db.session.scalar(select(User).where(User.username == "office"))
        # The site with the most photographed findings in the refined-oil campaign.
        site_id = db.session.scalar(
            select(Finding.site_id)
            .join(FindingPhoto, FindingPhoto.finding_id == Finding.id)
            .join(Campaign, Campaign.id == Finding.campaign_id)
            .where(Campaign.code == "refined-oil-2025")
            .group_by(Finding.site_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        jobs = {
            "site-problem-list": (
                "site_problem_list",
                {"site_id": site_id, "campaign": "refined-oil-2025"},
            ),
            "campaign-problem-list": ("campaign_problem_list", {"campaign": "refined-oil-2025"}),
            "rectification-report": ("rectification_report", {"campaign": "refined-oil-2025"}),
        }
        for name, (kind, params) in jobs.items():
            pdf = tmp / f"{name}.pdf"
            render.render_kind(kind, params, office, pdf)
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "70",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(pdf),
                    str(out / name),
                ],
                check=True,
            )
            print(out / f"{name}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "images"))
