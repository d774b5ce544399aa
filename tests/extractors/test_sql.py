"""The SQL migration extractor: statements → schema operations → the replayed tables, through the real engine."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extractors import sql
from analyzers.facts import SourceFile
from analyzers.model import Project, Table


def build(root: Path, files: dict[str, str], allow_failures: bool = False) -> Project:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    workspace = Workspace(root)
    workspace.scan()
    project, failures = workspace.resolve()
    assert allow_failures or not failures, failures
    return project


def table(project: Project, name: str) -> Table:
    found = project.table(name)
    assert found is not None, sorted(project.tables)
    return found


def ops(text: str) -> list[sql.SchemaOp]:
    found, _ = sql.ops_from_sql(textwrap.dedent(text).lstrip("\n").encode(), "x.sql")
    return found


# --------------------------------------------------------------------------------------------- statements


def test_statements_split_at_top_level_semicolons_only() -> None:
    text = b"""
    INSERT INTO t VALUES ('a;b', "c;d"); -- a comment; with a semicolon
    /* block; comment */ CREATE TABLE a (id int);
    CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN x := 1; END; $body$ LANGUAGE plpgsql;
    DO $$ BEGIN PERFORM 1; END $$;
    CREATE TABLE b (id int)
    """
    statements = sql.split_statements(text)
    heads = [statement.text.split()[0] for statement in statements]
    assert heads == [b"INSERT", b"CREATE", b"CREATE", b"DO", b"CREATE"]
    assert statements[1].text.startswith(b"CREATE TABLE a")  # the block comment is blanked, not part of it


def test_create_table_columns_keys_and_defaults() -> None:
    [op] = ops("""
        CREATE TABLE IF NOT EXISTS public."Orders" (
            id bigserial PRIMARY KEY,
            customer_id integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE ON UPDATE SET NULL,
            email varchar(255) UNIQUE,
            total numeric(10, 2) CHECK (total >= 0),
            created_at timestamp with time zone NOT NULL DEFAULT now(),
            touched_at datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
            note text COLLATE "C"
        );
    """)
    assert op.action == "create_table" and op.if_not_exists
    created = op.created
    assert created is not None and created.name == "Orders"  # quoted: case kept, schema dropped
    assert list(created.columns) == ["id", "customer_id", "email", "total", "created_at", "touched_at", "note"]
    columns = created.columns
    assert columns["id"].primary_key and columns["id"].nullable is False and created.primary_key == ("id",)
    assert columns["email"].unique and columns["email"].type == "varchar(255)"
    assert columns["total"].type == "numeric(10, 2)"
    assert columns["created_at"].type == "timestamp with time zone" and columns["created_at"].auto_on_insert
    assert columns["touched_at"].auto_on_insert and columns["touched_at"].auto_on_update
    assert not columns["note"].auto_on_insert
    [fk] = created.foreign_keys
    assert (fk.columns, fk.target_table, fk.target_columns) == (("customer_id",), "customers", ("id",))
    assert (fk.on_delete, fk.on_update) == ("CASCADE", "SET NULL")
    assert fk.location is not None and fk.location.line == 2


def test_table_constraints_named_and_unnamed() -> None:
    [op] = ops("""
        CREATE TABLE order_lines (
            order_id int NOT NULL,
            product_id int NOT NULL,
            sku text,
            CONSTRAINT order_lines_pk PRIMARY KEY (order_id, product_id),
            CONSTRAINT order_lines_product_fk
                FOREIGN KEY (product_id) REFERENCES products (id) DEFERRABLE INITIALLY DEFERRED,
            FOREIGN KEY (order_id) REFERENCES orders,
            CONSTRAINT order_lines_sku_uq UNIQUE (sku, product_id),
            CONSTRAINT positive CHECK (product_id > 0)
        );
    """)
    created = op.created
    assert created is not None
    assert created.primary_key == ("order_id", "product_id")
    product, order = created.foreign_keys
    assert product.name == "order_lines_product_fk" and product.target_table == "products"
    assert product.location is not None and product.location.line == 5  # from the CONSTRAINT line
    assert (order.columns, order.target_table, order.target_columns) == (("order_id",), "orders", ())
    [unique] = created.indexes
    assert unique.columns == ("sku", "product_id") and unique.unique and unique.name == "order_lines_sku_uq"


def test_mysql_inline_keys_and_backticks() -> None:
    [op] = ops("""
        CREATE TABLE `events` (
          `id` int(11) NOT NULL AUTO_INCREMENT,
          `user_id` int(11) NOT NULL,
          `kind` varchar(20) NOT NULL,
          PRIMARY KEY (`id`),
          KEY `events_kind_user` (`kind`, `user_id`),
          UNIQUE KEY `events_uq` (`user_id`, `kind`),
          CONSTRAINT `events_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
    """)
    created = op.created
    assert created is not None and created.name == "events"
    assert [(index.columns, index.unique, index.name) for index in created.indexes] == [
        (("kind", "user_id"), False, "events_kind_user"), (("user_id", "kind"), True, "events_uq")]
    assert created.foreign_keys[0].name == "events_user_fk"


def test_create_index_variants() -> None:
    found = ops("""
        CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email ON public.users USING btree (lower(email));
        CREATE INDEX orders_open ON orders (customer_id) WHERE closed_at IS NULL;
        CREATE INDEX ON orders ("Customer", status DESC);
    """)
    unique, partial, unnamed = (op.index for op in found)
    assert unique is not None and unique.unique and unique.columns == ("lower(email)",)
    assert partial is not None and partial.partial and partial.columns == ("customer_id",)
    assert unnamed is not None and unnamed.name is None and unnamed.columns == ("Customer", "status")
    assert [op.table for op in found] == ["users", "orders", "orders"]


def test_alter_table_actions() -> None:
    found = ops("""
        ALTER TABLE ONLY public.orders
            ADD COLUMN shipped_at timestamptz,
            ADD CONSTRAINT orders_shop_fk FOREIGN KEY (shop_id) REFERENCES shops (id) ON DELETE SET NULL,
            DROP COLUMN legacy;
        ALTER TABLE orders RENAME COLUMN shipped_at TO sent_at;
        ALTER TABLE orders DROP CONSTRAINT orders_shop_fk;
        ALTER TABLE orders ADD CONSTRAINT orders_number_uq UNIQUE (number);
        ALTER TABLE orders ADD PRIMARY KEY (id);
        ALTER TABLE orders RENAME TO purchases;
        ALTER TABLE purchases ADD COLUMN shop_ref int REFERENCES shops ON DELETE CASCADE;
        DROP INDEX IF EXISTS a_idx, b_idx CASCADE;
        DROP INDEX c_idx ON purchases;
        DROP TABLE IF EXISTS a, "B" CASCADE;
        RENAME TABLE x TO y;
    """)
    summary = [(op.action, op.table, op.name, op.new_name) for op in found]
    assert summary == [
        ("add_column", "orders", None, None),
        ("add_foreign_key", "orders", "orders_shop_fk", None),
        ("drop_column", "orders", "legacy", None),
        ("rename_column", "orders", "shipped_at", "sent_at"),
        ("drop_constraint", "orders", "orders_shop_fk", None),
        ("create_index", "orders", "orders_number_uq", None),
        ("add_primary_key", "orders", None, None),
        ("rename_table", "orders", None, "purchases"),
        ("add_column", "purchases", None, None),
        ("drop_index", "", "a_idx", None),
        ("drop_index", "", "b_idx", None),
        ("drop_index", "purchases", "c_idx", None),
        ("drop_table", "a", None, None),
        ("drop_table", "B", None, None),
        ("rename_table", "x", None, "y"),
    ]
    assert found[1].foreign_key is not None and found[1].foreign_key.on_delete == "SET NULL"
    bare = found[8].foreign_key
    assert bare is not None and (bare.target_table, bare.on_delete) == ("shops", "CASCADE")


def test_pg_dump_style_columns() -> None:
    [op] = ops("""
        CREATE TABLE public.accounts (
            id integer NOT NULL,
            tags text[] DEFAULT '{}'::text[] NOT NULL,
            created timestamp without time zone DEFAULT now() NOT NULL,
            note character varying(20) DEFAULT NULL::character varying,
            CONSTRAINT accounts_pk PRIMARY KEY (id) USING INDEX TABLESPACE fast,
            CONSTRAINT positive CHECK ((id IS NOT NULL))
        );
    """)
    created = op.created
    assert created is not None and created.primary_key == ("id",)
    columns = created.columns
    assert [columns[name].nullable for name in ("id", "tags", "created", "note")] == [False, False, False, None]
    assert columns["created"].auto_on_insert and columns["created"].type == "timestamp without time zone"


def test_a_statement_the_grammar_rejects_is_skipped_alone() -> None:
    found, notes = sql.ops_from_sql(b"CREATE TABLE a (id int);\nCREATE TABLE b (id int, x foo bar ((;\n"
                                    b"CREATE TABLE c (id int);\n", "m.sql")
    assert [op.table for op in found] == ["a", "c"]
    assert notes == ["m.sql:2: statement skipped (the SQL grammar does not understand it)"]


def test_temporary_tables_and_create_as_are_not_schema() -> None:
    assert ops("CREATE TEMP TABLE t (id int); CREATE TABLE u AS SELECT * FROM v;") == []


# --------------------------------------------------------------------------------------------- files and order


def test_migration_sort_key_is_natural_and_knows_flyway() -> None:
    paths = ["db/V10__c.sql", "db/V2__b.sql", "db/V1_1__a2.sql", "db/V1__a.sql", "db/R__views.sql"]
    assert sorted(paths, key=sql.migration_sort_key) == [
        "db/V1__a.sql", "db/V1_1__a2.sql", "db/V2__b.sql", "db/V10__c.sql", "db/R__views.sql"]
    assert sorted(["m/0010_x.sql", "m/0002_y.sql", "m/0001_z.sql"], key=sql.migration_sort_key) == [
        "m/0001_z.sql", "m/0002_y.sql", "m/0010_x.sql"]


def test_down_files_are_ignored() -> None:
    for name in ("0001_x.down.sql", "down.sql", "0001_x_down.sql", "U3__undo.sql", "x.rollback.sql"):
        assert sql.extract(SourceFile(f"m/{name}", "sql", b"CREATE TABLE t (id int);")) == [], name
    assert sql.extract(SourceFile("m/0001_x.up.sql", "sql", b"CREATE TABLE t (id int);"))


def test_down_sections_of_dbmate_and_goose_files_are_ignored() -> None:
    found = ops("""
        -- migrate:up
        CREATE TABLE a (id int);
        -- migrate:down
        DROP TABLE a;
    """) + ops("""
        -- +goose Up
        CREATE TABLE b (id int);
        -- +goose Down
        DROP TABLE b;
    """)
    assert [(op.action, op.table) for op in found] == [("create_table", "a"), ("create_table", "b")]


def test_replay_follows_file_order(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\n",
        "migrations/0002_sessions.sql": "CREATE TABLE sessions (id int PRIMARY KEY, user_id int REFERENCES users);",
        "migrations/0010_drop_sessions.sql": "DROP TABLE sessions;",
        "migrations/0001_users.sql": "CREATE TABLE users (id int PRIMARY KEY, email text);",
        "migrations/0011_user_dates.sql": """
            ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();
            CREATE INDEX users_email ON users (email);
        """,
    })
    assert "sessions" not in project.tables
    users = table(project, "users")
    created = users.columns["created_at"]
    assert created.origin == "migration" and created.origin_detail == "migration migrations/0011_user_dates.sql"
    assert created.auto_on_insert
    assert users.columns["email"].origin == "own"
    assert [index.name for index in users.indexes] == ["users_email"]
    assert "sql" in project.stacks


def test_drops_renames_and_constraints_replay(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\n",
        "schema/001.sql": """
            CREATE TABLE shops (id int PRIMARY KEY);
            CREATE TABLE orders (
                id int PRIMARY KEY,
                shop_id int CONSTRAINT orders_shop_fk REFERENCES shops (id),
                old_id int REFERENCES shops (id),
                code text
            );
            CREATE INDEX orders_old ON orders (old_id);
            CREATE INDEX orders_code ON orders (code);
        """,
        "schema/002.sql": """
            ALTER TABLE orders DROP CONSTRAINT orders_shop_fk;
            ALTER TABLE orders DROP COLUMN old_id;
            DROP INDEX orders_code;
            ALTER TABLE shops RENAME TO stores;
            ALTER TABLE orders RENAME COLUMN code TO reference;
        """,
    })
    orders = table(project, "orders")
    assert orders.foreign_keys == []  # one dropped by name, the other with its column
    assert orders.indexes == []
    assert list(orders.columns) == ["id", "shop_id", "reference"]
    assert "stores" in project.tables and "shops" not in project.tables


def test_create_if_not_exists_does_not_replace_and_duplicates_unite(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\n",
        "db/1.sql": "CREATE TABLE t (id int PRIMARY KEY, created_at timestamptz);",
        "db/2.sql": "CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY);\nCREATE TABLE u (id int);",
        "db/3.sql": "CREATE TABLE u (id int, updated_at timestamptz);",
    })
    assert list(table(project, "t").columns) == ["id", "created_at"]
    assert list(table(project, "u").columns) == ["id", "updated_at"]


def test_tables_only_altered_join_a_model_or_stay_out(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\n",
        "app/__init__.py": "",
        "app/models.py": """
            from sqlalchemy import Column, ForeignKey, Integer
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()


            class Order(Base):
                __tablename__ = "orders"
                id = Column(Integer, primary_key=True)
                customer_id = Column(Integer, ForeignKey("customers.id"))
        """,
        "db/001.sql": """
            CREATE INDEX orders_customer ON orders (customer_id);
            ALTER TABLE ghosts ADD COLUMN created_at timestamptz;
        """,
    })
    orders = table(project, "orders")
    assert [index.name for index in orders.indexes] == ["orders_customer"]
    assert [declaration.kind for declaration in orders.declarations] == ["model"]
    assert "ghosts" not in project.tables


def test_declaration_points_at_create_table(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\n",
        "db/schema.sql": "-- schema\n\nCREATE TABLE accounts (\n  id int PRIMARY KEY\n);\nSELECT 1;\n",
    })
    [declaration] = table(project, "accounts").declarations
    assert (declaration.kind, declaration.framework, declaration.idiom) == ("sql", "sql", {"style": "sql"})
    assert declaration.location.path == "db/schema.sql" and declaration.location.line == 2
    assert declaration.after_anchor is not None and declaration.after_anchor.span.start.line == 5
    assert table(project, "accounts").columns["id"].location.line == 3  # type: ignore[union-attr]


def test_after_anchor_at_the_end_of_a_file_without_newline() -> None:
    [op] = ops("CREATE TABLE t (id int);  -- last")
    [declaration] = op.created.declarations  # type: ignore[union-attr]
    assert declaration.after_anchor is not None and declaration.after_anchor.span.start.column == 33
    assert declaration.after_indent == "\n"


def test_resolving_twice_gives_the_same_schema(tmp_path: Path) -> None:
    build(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\n",
        "db/1.sql": "CREATE TABLE t (id int PRIMARY KEY, a int REFERENCES u (id));",
        "db/2.sql": "ALTER TABLE t ADD COLUMN b int; ALTER TABLE t RENAME COLUMN a TO c; ALTER TABLE t RENAME TO v;",
    })
    workspace = Workspace(tmp_path)
    workspace.scan()
    first, _ = workspace.resolve()
    second, _ = workspace.resolve()
    assert first.tables == second.tables
    assert list(table(second, "v").columns) == ["id", "c", "b"]
    assert table(second, "v").columns["b"].origin == "migration"


def test_join_tables_are_marked() -> None:
    [op] = ops("CREATE TABLE post_tags (id int PRIMARY KEY, post_id int REFERENCES posts, "
               "tag_id int REFERENCES tags);")
    assert op.created is not None and sql.is_association(op.created)
    [op] = ops("CREATE TABLE likes (post_id int REFERENCES posts, user_id int REFERENCES users, created_at date);")
    assert op.created is not None and not sql.is_association(op.created)


def test_records_survive_pickling() -> None:
    records = sql.extract(SourceFile("db/1.sql", "sql", b"CREATE TABLE t (id int PRIMARY KEY REFERENCES u);"))
    assert pickle.loads(pickle.dumps(records)) == records


# --------------------------------------------------------------------------------------------- robustness

SQL_PIECES = [
    "CREATE TABLE", "t", "(", ")", ",", ";", "id int", "PRIMARY KEY", "REFERENCES", "u(id)", "CONSTRAINT c",
    "FOREIGN KEY (a)", "ALTER TABLE", "ADD COLUMN", "DROP", "INDEX", "CREATE INDEX i ON t (a)", "'", '"', "`",
    "$$", "--", "/*", "*/", "\n", "ON DELETE CASCADE", "CHECK (", "DEFAULT now()", "UNIQUE", "RENAME TO",
    "é", "\x00", "WHERE",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(SQL_PIECES), max_size=40), st.text(max_size=80))
def test_extract_never_raises_on_broken_sql(pieces: list[str], noise: str) -> None:
    text = " ".join(pieces) + noise
    sql.extract(SourceFile("db/fuzz.sql", "sql", text.encode("utf-8", "replace")))
