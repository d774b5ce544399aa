"""The call graph's DRF indirection: saving a serializer calls its class's `save`/`create`/`update`, through
the real engine (the class is only known once every file is read)."""

from __future__ import annotations

from pathlib import Path

from analyzers.model import Project
from tests.extractors.test_data_access import build

SERIALIZERS = """
    from rest_framework import serializers
    from i18nfield.rest_framework import I18nAwareModelSerializer

    class BaseAudited(serializers.ModelSerializer):
        def create(self, validated_data):
            return None

    class OrderSerializer(BaseAudited):
        def update(self, instance, validated_data):
            return instance

    class ExternalBaseSerializer(I18nAwareModelSerializer):
        def create(self, validated_data):
            return None

    class Exporter:
        def save(self):
            return None

        def create(self):
            return None
"""

VIEWS = """
    from django.db import transaction
    from rest_framework import viewsets

    from shop.serializers import Exporter, ExternalBaseSerializer, OrderSerializer

    class OrderViewSet(viewsets.ModelViewSet):
        serializer_class = OrderSerializer

        def create(self, request):
            serializer = ExternalBaseSerializer(data=request.data)
            with transaction.atomic():
                self.perform_create(serializer)

        def perform_create(self, serializer):
            serializer.save()

        def retry(self, request):
            serializer = self.get_serializer(data=request.data)
            serializer.save()

    def export(request):
        exporter = Exporter()
        with transaction.atomic():
            exporter.save()
"""


def project(tmp_path: Path) -> Project:
    return build(tmp_path, {"shop/serializers.py": SERIALIZERS, "shop/views.py": VIEWS})


def calls(project: Project, function: str) -> set[str]:
    """The project methods of shop.serializers that `function` calls."""
    return {callee for callee in project.functions[function].calls
            if callee.startswith("shop.serializers.") and callee in project.functions}


def test_saving_a_serializer_calls_its_create_and_update(tmp_path: Path) -> None:
    found = project(tmp_path)
    # The hook's `serializer` and `self.get_serializer(...)` are the view's serializer_class (create inherited).
    expected = {"shop.serializers.BaseAudited.create", "shop.serializers.OrderSerializer.update"}
    assert calls(found, "shop.views.OrderViewSet.perform_create") == expected
    assert calls(found, "shop.views.OrderViewSet.retry") == expected
    # Handing a serializer to perform_create saves it; a base named like a serializer outside the workspace counts.
    assert "shop.serializers.ExternalBaseSerializer.create" in calls(found, "shop.views.OrderViewSet.create")


def test_a_class_that_is_no_serializer_gets_no_edge(tmp_path: Path) -> None:
    found = project(tmp_path)
    assert calls(found, "shop.views.export") == set()


def test_serializers_saved_in_an_atomic_block_run_in_it(tmp_path: Path) -> None:
    found = project(tmp_path)
    atomic = {(site.function, site.callee) for site in found.calls if site.kind == "atomic_call"}
    assert ("shop.views.OrderViewSet.create", "shop.serializers.ExternalBaseSerializer.create") in atomic
    # Not a serializer: its save() runs no create(); and `exporter.save()` is not taken for Exporter.save (a
    # model's save() is called from everywhere, so one call in a transaction tells nothing).
    assert not any(callee.startswith("shop.serializers.Exporter.") for _, callee in atomic)
