"""The Django extractor: the tables, columns, keys and settings it puts into the model, through the real engine."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extract import extract_file
from analyzers.extractors import django
from analyzers.facts import SourceFile
from analyzers.model import Project, Table

TIMESTAMPED = """
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["created_at"], name="%(class)s_created")]
"""


def build(root: Path, files: dict[str, str]) -> Project:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    workspace = Workspace(root)
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    return project


def table(project: Project, name: str) -> Table:
    found = project.table(name)
    assert found is not None, sorted(project.tables)
    return found


# ------------------------------------------------------------------------------------------- tables


def test_abstract_base_in_another_app_gives_inherited_timestamps_and_no_table(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "core/models.py": TIMESTAMPED,
        "shop/models.py": """
            from django.db import models
            from core.models import TimeStampedModel

            class Order(TimeStampedModel):
                total = models.DecimalField(max_digits=10, decimal_places=2)
        """,
    })
    assert "django" in project.stacks
    assert sorted(project.tables) == ["shop_order"]
    order = table(project, "shop_order")
    created = order.columns["created_at"]
    assert created.origin == "inherited" and created.origin_detail == "TimeStampedModel (core/models.py)"
    assert created.auto_on_insert and not created.auto_on_update
    assert order.columns["updated_at"].auto_on_update
    assert list(order.columns)[0] == "id" and order.columns["id"].origin == "framework"
    assert order.primary_key == ("id",)
    assert [index.columns for index in order.indexes] == [("created_at",)]  # Meta inherited from the base
    declaration = order.declarations[0]
    assert (declaration.kind, declaration.framework, declaration.class_name) == ("model", "django", "Order")
    assert declaration.location.path == "shop/models.py" and declaration.location.line == 3


def test_table_names_follow_app_labels_db_table_and_app_config(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/sales/apps.py": """
            from django.apps import AppConfig

            class SalesConfig(AppConfig):
                name = "shop.sales"
                label = "crm"
        """,
        "shop/sales/models/__init__.py": "from .invoice import Invoice\n",
        "shop/sales/models/invoice.py": """
            from django.db import models

            class Invoice(models.Model):
                number = models.CharField(max_length=20)
        """,
        "inventory/models.py": """
            from django.db import models

            class StockItem(models.Model):
                sku = models.CharField(max_length=20, primary_key=True)

                class Meta:
                    db_table = "stock"

            class Bin(models.Model):
                class Meta:
                    app_label = "warehouse"
        """,
    })
    assert sorted(project.tables) == ["crm_invoice", "stock", "warehouse_bin"]
    stock = table(project, "stock")
    assert "id" not in stock.columns and stock.primary_key == ("sku",)


def test_models_in_a_plain_sub_package_belong_to_the_app_that_holds_it(tmp_path: Path) -> None:
    # Django labels a model by the installed app containing its module (`get_containing_app_config`): ubyssey's
    # dispatch keeps models in `dispatch/modules/content/models.py`, and only `dispatch` is installed.
    project = build(tmp_path, {
        "site/settings.py": 'INSTALLED_APPS = ["newsroom", "django.contrib.auth"]\n',
        "newsroom/__init__.py": "",
        "newsroom/modules/__init__.py": "",
        "newsroom/modules/content/__init__.py": "",
        "newsroom/modules/content/models.py": """
            from django.db import models

            class Section(models.Model):
                name = models.CharField(max_length=100)
        """,
        # an app of its own (its own migrations), even though the settings above do not list it
        "newsroom/plugins/__init__.py": "",
        "newsroom/plugins/polls/__init__.py": "",
        "newsroom/plugins/polls/migrations/__init__.py": "",
        "newsroom/plugins/polls/models.py": """
            from django.db import models

            class Poll(models.Model):
                question = models.CharField(max_length=200)
        """,
        # not inside any app we know of: the folder holding models.py, as before
        "archive/legacy/models.py": """
            from django.db import models

            class Clipping(models.Model):
                title = models.CharField(max_length=200)
        """,
    })
    assert {"newsroom_section", "polls_poll", "legacy_clipping"} <= set(project.tables)
    assert "content_section" not in project.tables


def test_foreign_keys_are_indexed_by_django_unless_db_index_false(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "settings.py": 'INSTALLED_APPS = ["shop"]\nAUTH_USER_MODEL = "accounts.Member"\n',
        "accounts/models.py": """
            from django.db import models

            class Member(models.Model):
                handle = models.SlugField(unique=True)
        """,
        "shop/models.py": """
            from django.conf import settings
            from django.db import models
            from accounts.models import Member

            class Customer(models.Model):
                name = models.CharField(max_length=100)

            class Order(models.Model):
                customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
                buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, db_index=False)
                referrer = models.ForeignKey(Member, to_field="handle", on_delete=models.SET_NULL, null=True,
                                             db_column="ref_handle")
                parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE)
                coupon = models.OneToOneField("shop.Coupon", on_delete=models.CASCADE, db_index=False)
                region = models.ForeignKey("geo.Region", on_delete=models.CASCADE)

            class Coupon(models.Model):
                code = models.CharField(max_length=10)
        """,
    })
    order = table(project, "shop_order")
    keys = {fk.columns[0]: fk for fk in order.foreign_keys}
    assert set(keys) == {"customer_id", "buyer_id", "ref_handle", "parent_id", "coupon_id", "region_id"}
    assert (keys["customer_id"].target_table, keys["customer_id"].target_columns) == ("shop_customer", ("id",))
    assert keys["customer_id"].framework_indexed and order.columns["customer_id"].indexed
    assert keys["customer_id"].on_delete == "CASCADE"
    assert keys["buyer_id"].target_table == "accounts_member" and not keys["buyer_id"].framework_indexed
    assert not order.columns["buyer_id"].indexed
    assert keys["ref_handle"].target_columns == ("handle",)
    assert keys["parent_id"].target_table == "shop_order"
    assert order.columns["coupon_id"].unique and keys["coupon_id"].framework_indexed  # one-to-one is unique
    assert keys["region_id"].target_table == "geo_region"  # not in the workspace: Django's naming
    assert keys["buyer_id"].location is not None and keys["buyer_id"].location.line == 9
    anchor = order.columns["buyer_id"].options_anchor
    assert anchor is not None and (anchor.line, anchor.span.start.column) == (9, 96)
    assert order.columns["buyer_id"].declaration_text is not None
    assert order.columns["buyer_id"].declaration_text.startswith("buyer = models.ForeignKey(")


def test_default_user_model_is_auth_user(tmp_path: Path) -> None:
    project = build(tmp_path, {"blog/models.py": """
        from django.contrib.auth import get_user_model
        from django.db import models

        class Post(models.Model):
            author = models.ForeignKey(get_user_model(), on_delete=models.CASCADE)
    """})
    assert table(project, "blog_post").foreign_keys[0].target_table == "auth_user"


def test_many_to_many_creates_an_indexed_join_table_unless_through(tmp_path: Path) -> None:
    project = build(tmp_path, {"shop/models.py": """
        from django.db import models

        class Tag(models.Model):
            label = models.CharField(max_length=20)

        class Product(models.Model):
            tags = models.ManyToManyField(Tag)
            related = models.ManyToManyField("self")
            suppliers = models.ManyToManyField("Supplier", through="Supply")

        class Supplier(models.Model):
            name = models.CharField(max_length=20)

        class Supply(models.Model):
            product = models.ForeignKey(Product, on_delete=models.CASCADE)
            supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE)
    """})
    assert "shop_product_suppliers" not in project.tables
    join = table(project, "shop_product_tags")
    assert join.is_association and join.primary_key == ("id",)
    assert [(fk.columns, fk.target_table, fk.framework_indexed) for fk in join.foreign_keys] == [
        (("product_id",), "shop_product", True), (("tag_id",), "shop_tag", True)]
    assert [(index.columns, index.unique) for index in join.indexes] == [(("product_id", "tag_id"), True)]
    assert join.declarations[0].location.line == 6
    assert set(table(project, "shop_product_related").columns) == {"id", "from_product_id", "to_product_id"}
    assert "tags" not in table(project, "shop_product").columns
    assert table(project, "shop_supply").is_association is False


def test_meta_indexes_constraints_and_together_options(tmp_path: Path) -> None:
    project = build(tmp_path, {"shop/models.py": """
        from django.db import models
        from django.db.models import Q, UniqueConstraint

        class Order(models.Model):
            customer = models.ForeignKey("Customer", on_delete=models.CASCADE, db_index=False)
            status = models.CharField(max_length=10)
            number = models.CharField(max_length=10, db_index=True, db_column="order_no")

            class Meta:
                indexes = [models.Index(fields=["customer", "-status"], name="by_customer"),
                           models.Index(models.functions.Lower("status"), name="lower_status")]
                constraints = [UniqueConstraint(fields=["number"], condition=Q(status="open"), name="open_no"),
                               models.CheckConstraint(check=Q(status__in=["a"]), name="valid_status")]
                unique_together = ("customer", "number")
                index_together = [["status", "customer"]]

        class Customer(models.Model):
            pass
    """})
    order = table(project, "shop_order")
    assert [(index.columns, index.unique, index.partial, index.name, index.source) for index in order.indexes] == [
        (("customer_id", "status"), False, False, "by_customer", "index"),
        (("order_no",), True, True, "open_no", "unique"),
        (("customer_id", "order_no"), True, False, None, "unique"),
        (("status", "customer_id"), False, False, None, "index"),
    ]
    assert order.columns["order_no"].indexed
    assert order.covered_by_index(("customer_id",))


def test_meta_is_inherited_only_without_own_meta_or_through_meta_subclass(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "core/models.py": TIMESTAMPED,
        "shop/models.py": """
            from core.models import TimeStampedModel

            class Plain(TimeStampedModel):
                class Meta:
                    ordering = ["-created_at"]

            class Extended(TimeStampedModel):
                class Meta(TimeStampedModel.Meta):
                    db_table = "extended"
        """,
    })
    assert table(project, "shop_plain").indexes == []
    assert [index.columns for index in table(project, "extended").indexes] == [("created_at",)]


def test_proxy_abstract_and_unmanaged_models(tmp_path: Path) -> None:
    project = build(tmp_path, {"shop/models.py": """
        from django.db import models

        class Base(models.Model):
            class Meta:
                abstract = True

        class Order(Base):
            total = models.IntegerField()

        class OpenOrder(Order):
            class Meta:
                proxy = True

        class Legacy(models.Model):
            class Meta:
                managed = False
                db_table = "legacy"

        class MaybeProxy(Order):
            class Meta:
                proxy = "shop" in settings.INSTALLED_APPS  # decided at run time: assumed a proxy
    """})
    assert sorted(project.tables) == ["legacy", "shop_order"]
    assert table(project, "legacy").managed is False


def test_multi_table_inheritance_links_child_to_parent(tmp_path: Path) -> None:
    project = build(tmp_path, {"places/models.py": """
        from django.db import models

        class Place(models.Model):
            name = models.CharField(max_length=50)
            created = models.DateTimeField(auto_now_add=True)

        class Restaurant(Place):
            serves_pizza = models.BooleanField(default=False)
    """})
    restaurant = table(project, "places_restaurant")
    assert restaurant.primary_key == ("place_ptr_id",) and "id" not in restaurant.columns
    link = restaurant.foreign_keys[0]
    assert (link.columns, link.target_table, link.framework_indexed) == (("place_ptr_id",), "places_place", True)
    created = restaurant.columns["created"]
    assert created.origin == "inherited" and created.auto_on_insert
    assert created.attributes["table"] == "places_place"
    assert table(project, "places_place").columns["id"].primary_key


def test_timestamp_defaults(tmp_path: Path) -> None:
    project = build(tmp_path, {"log/models.py": """
        from datetime import datetime
        from django.db import models
        from django.db.models.functions import Now
        from django.utils import timezone

        class Entry(models.Model):
            a = models.DateTimeField(default=timezone.now)
            b = models.DateTimeField(default=datetime.utcnow)
            c = models.DateTimeField(default=lambda: timezone.now())
            d = models.DateTimeField(db_default=Now())
            e = models.DateTimeField(default=timezone.now())
            f = models.DateTimeField(auto_now=True)
            g = models.DateTimeField(null=True)
    """})
    columns = table(project, "log_entry").columns
    assert [name for name in "abcdefg" if columns[name].auto_on_insert] == ["a", "b", "c", "d", "f"]
    assert [name for name in "abcdefg" if columns[name].auto_on_update] == ["f"]
    assert columns["g"].nullable is True and columns["a"].nullable is False
    assert columns["a"].type == "DateTimeField"


def test_field_set_to_none_removes_the_inherited_field(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "core/models.py": TIMESTAMPED,
        "shop/models.py": """
            from core.models import TimeStampedModel

            class Snapshot(TimeStampedModel):
                updated_at = None
        """,
    })
    assert set(table(project, "shop_snapshot").columns) == {"id", "created_at"}


def test_module_aliases_and_bare_imports_and_fix_idiom(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "a/models.py": """
            from django.db import models as m

            class Thing(m.Model):
                name = m.CharField(max_length=10)

                class Meta:
                    ordering = ["name"]

                def __str__(self):
                    return self.name
        """,
        "b/models.py": """
            import uuid

            from django.db.models import CASCADE, CharField, ForeignKey, Model

            class Other(Model):
                name = CharField(
                    max_length=10,
                )
                thing = ForeignKey("a.Thing", on_delete=CASCADE)
        """,
    })
    thing = table(project, "a_thing").declarations[0]
    assert thing.idiom["style"] == "django" and thing.idiom["prefix"] == "m." and thing.idiom["imported"] == ""
    assert thing.body_anchor is not None and thing.body_anchor.line == 4  # after the fields, before Meta
    assert thing.body_indent == "    "
    other = table(project, "b_other")
    declaration = other.declarations[0]
    assert declaration.idiom["prefix"] == "" and declaration.idiom["imported"] == "CASCADE,CharField,ForeignKey,Model"
    assert declaration.idiom["imports_line"] == "3"
    assert declaration.body_anchor is not None and declaration.body_anchor.line == 9
    assert other.foreign_keys[0].target_table == "a_thing"


def test_known_third_party_abstract_bases(tmp_path: Path) -> None:
    project = build(tmp_path, {"accounts/models.py": """
        from django.contrib.auth.models import AbstractUser
        from django.db import models
        from model_utils.models import TimeStampedModel

        class User(AbstractUser):
            pass

        class Team(TimeStampedModel):
            name = models.CharField(max_length=30)
    """})
    user = table(project, "accounts_user")
    assert user.columns["date_joined"].origin == "framework" and user.columns["date_joined"].auto_on_insert
    team = table(project, "accounts_team")
    assert team.columns["created"].auto_on_insert and team.columns["modified"].auto_on_update


def test_classes_that_are_not_models_make_no_tables(tmp_path: Path) -> None:
    project = build(tmp_path, {"shop/models.py": """
        from django import forms
        from django.db import models
        from mptt.models import MPTTModel
        from pydantic import BaseModel
        from rest_framework import serializers

        class OrderIn(BaseModel):
            total: int

        class OrderForm(forms.Form):
            total = forms.IntegerField()

        class OrderSerializer(serializers.Serializer):
            total = serializers.IntegerField()

            class Meta:
                fields = ["total"]

        class Category(MPTTModel):
            name = models.CharField(max_length=10)
    """})
    assert project.tables == {}


def test_project_in_a_subfolder_resolves_imports_relative_to_manage_py(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "backend/manage.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "conf.settings")\n',
        "backend/conf/settings.py": 'REST_FRAMEWORK = {"PAGE_SIZE": 10}\n',
        "backend/conf/prod.py": 'REST_FRAMEWORK = {"PAGE_SIZE": 99}\nINSTALLED_APPS = ["core"]\n',
        "backend/core/models.py": TIMESTAMPED,
        "backend/shop/models.py": """
            from core.models import TimeStampedModel

            class Order(TimeStampedModel):
                pass
        """,
    })
    assert table(project, "shop_order").columns["created_at"].origin == "inherited"
    assert project.settings["drf.page_size"] == "10"  # DJANGO_SETTINGS_MODULE wins over other settings files


# ------------------------------------------------------------------------------------------- settings


def test_settings_give_drf_pagination_and_stacks(tmp_path: Path) -> None:
    project = build(tmp_path, {"mysite/settings/base.py": """
        INSTALLED_APPS = ["django.contrib.admin", "rest_framework"]
        REST_FRAMEWORK = {
            "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
            "PAGE_SIZE": 25,
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        }
        ROOT_URLCONF = "mysite.urls"
    """})
    assert {"django", "drf"} <= project.stacks
    assert project.settings["drf.default_pagination_class"] == "rest_framework.pagination.LimitOffsetPagination"
    assert project.settings["drf.page_size"] == "25"
    assert project.settings["django.root_urlconf"] == "mysite.urls"


def test_no_django_no_stack(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/models.py": "class Order:\n    pass\n"})
    assert "django" not in project.stacks and project.tables == {}


# ------------------------------------------------------------------------------------------- migrations

INITIAL = """
    from django.db import migrations, models
    import django.db.models.deletion


    class Migration(migrations.Migration):
        initial = True
        dependencies = []
        operations = [
            migrations.CreateModel(
                name="Invoice",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                    ("number", models.CharField(max_length=20)),
                    ("draft", models.BooleanField(default=True)),
                ],
                options={"unique_together": {("number",)}},
            ),
            migrations.CreateModel(
                name="Line",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                    ("invoice", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                  to="billing.invoice", db_index=False)),
                ],
            ),
            migrations.CreateModel(name="Scratch", fields=[("id", models.AutoField(primary_key=True))]),
        ]
"""
LATER = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dependencies = [("billing", "0001_initial")]
        operations = [
            migrations.AddField(model_name="invoice", name="created_at",
                                field=models.DateTimeField(auto_now_add=True)),
            migrations.RemoveField(model_name="invoice", name="draft"),
            migrations.DeleteModel(name="Scratch"),
            migrations.RenameModel(old_name="Line", new_name="InvoiceLine"),
            migrations.AddIndex(model_name="invoiceline",
                                index=models.Index(fields=["invoice"], name="line_invoice")),
        ]
"""


def test_migrations_are_replayed_for_apps_without_models(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "billing/migrations/__init__.py": "",
        "billing/migrations/0001_initial.py": INITIAL,
        "billing/migrations/0002_changes.py": LATER,
    })
    assert sorted(project.tables) == ["billing_invoice", "billing_invoiceline"]
    invoice = table(project, "billing_invoice")
    assert set(invoice.columns) == {"id", "number", "created_at"}
    assert invoice.columns["created_at"].origin == "migration" and invoice.columns["created_at"].auto_on_insert
    assert invoice.primary_key == ("id",) and [index.columns for index in invoice.indexes] == [("number",)]
    assert invoice.declarations[0].kind == "migration" and invoice.declarations[0].location.line == 8
    line = table(project, "billing_invoiceline")
    assert line.foreign_keys[0].target_table == "billing_invoice" and not line.foreign_keys[0].framework_indexed
    assert [index.columns for index in line.indexes] == [("invoice_id",)]
    assert project.settings["django.migrations.billing"] == "2"


SQUASHED = """
    from django.db import migrations, models
    import django.db.models.deletion


    class Migration(migrations.Migration):
        replaces = [("billing", "0001_initial"), ("billing", "0002_changes")]
        initial = True
        dependencies = []
        operations = [
            migrations.CreateModel(
                name="Invoice",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                    ("number", models.CharField(max_length=20)),
                    ("created_at", models.DateTimeField(auto_now_add=True)),
                ],
                options={"unique_together": {("number",)}},
            ),
            migrations.CreateModel(
                name="InvoiceLine",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                    ("invoice", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                  to="billing.invoice", db_index=False)),
                ],
                options={"indexes": [models.Index(fields=["invoice"], name="line_invoice")]},
            ),
        ]
"""


def test_a_squashed_migration_is_replayed_instead_of_the_ones_it_replaces(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "billing/migrations/__init__.py": "",
        "billing/migrations/0001_initial.py": INITIAL,
        "billing/migrations/0001_squashed_0002_changes.py": SQUASHED,
        "billing/migrations/0002_changes.py": LATER,
    })
    assert sorted(project.tables) == ["billing_invoice", "billing_invoiceline"]
    invoice = table(project, "billing_invoice")
    assert set(invoice.columns) == {"id", "number", "created_at"}
    squashed = "billing/migrations/0001_squashed_0002_changes.py"
    assert [declaration.location.path for declaration in invoice.declarations] == [squashed]
    line = table(project, "billing_invoiceline")
    assert [declaration.location.path for declaration in line.declarations] == [squashed]
    assert [index.columns for index in line.indexes] == [("invoice_id",)]


def test_migrations_of_apps_with_models_add_no_second_declaration(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "billing/models.py": """
            from django.db import models

            class Invoice(models.Model):
                number = models.CharField(max_length=20)
        """,
        "billing/migrations/__init__.py": "",
        "billing/migrations/0001_initial.py": INITIAL,
    })
    invoice = table(project, "billing_invoice")
    assert [declaration.kind for declaration in invoice.declarations] == ["model"]
    assert set(invoice.columns) == {"id", "number"}
    # a table of the app that no model class declares any more still comes from the migrations
    assert "billing_line" in project.tables


# ------------------------------------------------------------------------------------------- robustness

DJANGO_LINES = [
    "from django.db import models", "from django.db import models as m", "from core.models import Base",
    "class A(models.Model):", "class B(A):", "class C(Base):", "class D(m.Model, Base):", "    class Meta:",
    "        abstract = True", "        proxy = True", "        db_table = 'x'", "        unique_together = ('a',)",
    "        indexes = [models.Index(fields=['a'])]", "    a = models.ForeignKey('self', on_delete=1)",
    "    b = models.ManyToManyField(A)", "    c = models.CharField(", "    d = None", "    pass",
    "        index_together = [[", "    e = models.OneToOneField(B, primary_key=True)",
    "operations = [migrations.CreateModel(name='A', fields=[('a', models.ForeignKey(to='x.y'))])]",
    "class Migration(migrations.Migration):", "    operations = [migrations.AddField(", "REST_FRAMEWORK = {",
    "INSTALLED_APPS = [1, 'x'", "    f = models.ManyToManyField('B', through=)", ")", "]", "def f(:",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(DJANGO_LINES), max_size=25), st.text(max_size=60))
def test_broken_django_code_never_raises(lines: list[str], noise: str) -> None:
    text = "\n".join(lines) + "\n" + noise
    for path in ("app/models.py", "app/migrations/0001_initial.py", "proj/settings.py"):
        facts = extract_file(path, text.encode("utf-8", errors="replace"))
        assert not facts.failures, facts.failures


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(DJANGO_LINES), max_size=20), st.lists(st.sampled_from(DJANGO_LINES), max_size=20))
def test_broken_django_projects_resolve_without_failures(tmp_path_factory, first: list[str],
                                                         second: list[str]) -> None:
    root = tmp_path_factory.mktemp("proj")
    workspace = Workspace(root)
    workspace.update_file("core/models.py", "\n".join(first).encode())
    workspace.update_file("app/models.py", "\n".join(second).encode())
    workspace.update_file("app/migrations/0001_initial.py", "\n".join(second + first).encode())
    _, failures = workspace.resolve()
    assert not failures


def test_extract_ignores_files_without_python() -> None:
    assert django.extract(SourceFile(path="schema.sql", language="sql", data=b"CREATE TABLE x (id int);")) == []
