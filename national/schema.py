"""The service's tables: one definition (SQLAlchemy Core) for PostgreSQL and SQLite.

Uniqueness is the database's: a submission revision is UNIQUE (submission_id, revision), an
enrolment code and a token are unique by their keyed hash. Identifiable data lives only in
`submissions.payload`; the columns beside it are the facts the service reads and counts by
(local authorities, need, setting types, year), none of them a name, date of birth, UPN or ULN.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Auto-incrementing 64-bit keys on PostgreSQL; SQLite's INTEGER PRIMARY KEY is its row id.
BigId = BigInteger().with_variant(Integer(), "sqlite")

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", String(32), nullable=False),
)

# Local authorities (kind 'la', id = the three-digit LA code), trusts and settings (schools,
# colleges, early years providers). A setting lies in one LA's area and may belong to a trust.
organisations = Table(
    "organisations", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # la | trust | setting
    Column("name", String(200), nullable=False),
    Column("la_code", String(3)),  # a setting's LA area; an LA's own code
    Column("trust_id", String(64), ForeignKey("organisations.id")),
    Column("urn", String(16)),
    Column("ukprn", String(16)),
    Column("ofsted_ref", String(32)),
    Column("created_at", String(32), nullable=False),
)
Index("organisations_trust", organisations.c.trust_id)

enrol_codes = Table(
    "enrol_codes", metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("setting", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("used_by", String(32)),
    Column("used_at", Float),
    Column("idempotency_hash", String(64)),
    Column("issued_at", String(32), nullable=False),
)

devices = Table(
    "devices", metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("enrolled_at", String(32), nullable=False),
    Column("expires_at", Float),
    Column("setting", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("previous_token_hash", String(64)),
    Column("previous_expires_at", Float),
    Column("revoked_at", String(32)),
)
Index("devices_previous_token", devices.c.previous_token_hash)

# People's tokens, issued by an administrator: trust officer, LA officer, national analyst.
officers = Table(
    "officers", metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # trust_officer | la_officer | analyst
    Column("organisation", String(64), ForeignKey("organisations.id")),
    Column("name", String(200), nullable=False),
    Column("issued_at", String(32), nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", String(32)),
)

forms = Table(
    "forms", metadata,
    Column("form", String(100), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("signature", Text, nullable=False),
    Column("published_seq", Integer, nullable=False),
)

submissions = Table(
    "submissions", metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("submission_id", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("base_revision", Integer),
    Column("form", String(100), nullable=False),
    Column("form_version", String(32), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("payload_hash", String(80), nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("signature", Text, nullable=False),
    Column("setting", String(64), ForeignKey("organisations.id"), nullable=False),
    # The facts read from the answers when the revision arrives (no identifier among them).
    Column("home_la", String(3)),
    Column("placed_la", String(3)),
    Column("kind", String(32)),
    Column("status", String(32)),
    Column("primary_need", String(16)),
    Column("current_setting_type", String(64)),
    Column("recommended_setting_type", String(64)),
    Column("nc_year", String(8)),
    Column("phase", String(16)),
    Column("academic_year", String(8)),
    Column("event_month", String(7)),
    Column("plan_needed", Boolean),
    Column("next_due", String(10)),
    UniqueConstraint("submission_id", "revision", name="submissions_revision_once"),
    sqlite_autoincrement=True,
)
Index("submissions_device", submissions.c.device_id, submissions.c.seq)
Index("submissions_setting", submissions.c.setting, submissions.c.submission_id)
Index("submissions_home_la", submissions.c.home_la, submissions.c.seq)
Index("submissions_placed_la", submissions.c.placed_la, submissions.c.seq)

# One row per submission: its latest revision, the unit the case lists and figures count.
cases = Table(
    "cases", metadata,
    Column("submission_id", String(64), primary_key=True),
    Column("latest_seq", BigInteger, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("setting", String(64), nullable=False),
    Column("home_la", String(3)),
    Column("placed_la", String(3)),
    Column("kind", String(32)),
    Column("status", String(32)),
    Column("primary_need", String(16)),
    Column("current_setting_type", String(64)),
    Column("recommended_setting_type", String(64)),
    Column("nc_year", String(8)),
    Column("phase", String(16)),
    Column("academic_year", String(8)),
    Column("event_month", String(7)),
    Column("plan_needed", Boolean),
    Column("next_due", String(10)),
    Column("updated_at", String(32), nullable=False),
)
Index("cases_home_la", cases.c.home_la, cases.c.submission_id)
Index("cases_placed_la", cases.c.placed_la, cases.c.submission_id)

access_log = Table(
    "access_log", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("officer", String(32), nullable=False),
    Column("organisation", String(64), nullable=False),
    Column("submission_id", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("why", String(32), nullable=False),
    Column("home_la", String(3)),
    Column("placed_la", String(3)),
    sqlite_autoincrement=True,
)
Index("access_log_home", access_log.c.home_la, access_log.c.id)
Index("access_log_placed", access_log.c.placed_la, access_log.c.id)

# The sufficiency figures kept as they go (migration 2): one row per combination of the
# dimensions they count by, with how many cases hold it now. A stored revision moves its case
# from its old combination to its new one in the same transaction (national/ingest.py), so
# the table always equals a count over `cases` (tests/national: test_counts_*). A fact that
# is absent is '' here (a key column cannot be NULL); the figures show it as null again.
COUNT_KEY = ("home_la", "primary_need", "current_setting_type", "recommended_setting_type",
             "nc_year", "phase", "academic_year")
case_counts = Table(
    "case_counts", metadata,
    *(Column(name, cases.c[name].type, primary_key=True) for name in COUNT_KEY),
    Column("n", BigInteger, nullable=False),
)
