"""The DRF / Django views extractor: endpoints, composed paths, what they return and their pagination evidence."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extract import extract_file
from analyzers.model import Endpoint, Project

PAGE_NUMBER_SETTINGS = """
ROOT_URLCONF = "proj.urls"
REST_FRAMEWORK = {
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}
"""
ROOT_URLS = """
from django.urls import include, path

urlpatterns = [path("api/", include("shop.urls"))]
"""
SERIALIZERS = """
from rest_framework import serializers


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
"""


def build(root: Path, files: dict[str, str], settings_text: str = PAGE_NUMBER_SETTINGS) -> Project:
    files = {"proj/settings.py": settings_text, "proj/urls.py": ROOT_URLS, "shop/serializers.py": SERIALIZERS,
             **files}
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    workspace = Workspace(root)
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    return project


def endpoint(project: Project, method: str, path: str) -> Endpoint:
    found = [item for item in project.endpoints if item.path == path and method in item.methods]
    assert len(found) == 1, [(item.methods, item.path) for item in project.endpoints]
    return found[0]


def routes(project: Project) -> set[tuple[str, str]]:
    return {(method, item.path) for item in project.endpoints for method in item.methods}


VIEWSETS = """
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from shop.serializers import OrderSerializer


class OrderViewSet(viewsets.ModelViewSet):
    serializer_class = OrderSerializer
    lookup_field = "number"

    @action(detail=False)
    def open(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    @action(detail=True, methods=["post"], url_path="cancel-now")
    def cancel(self, request, number=None):
        return Response(status=204)

    @action(detail=True, url_path=r"lines/(?P<line_id>[^/.]+)/receipt")
    def receipt(self, request, number=None, line_id=None):
        return Response({"line": line_id})


class TagViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = None

    def get_queryset(self):
        return Tag.objects.order_by("name")[:100]
"""


def test_router_routes_compose_with_includes(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/views.py": VIEWSETS,
        "shop/urls.py": """
            from django.urls import include, path
            from rest_framework import routers

            from shop.views import OrderViewSet, TagViewSet

            router = routers.DefaultRouter()
            router.register(r"orders", OrderViewSet)
            router.register(r"tags", TagViewSet, basename="tag")

            urlpatterns = [path("v1/", include(router.urls))]
        """,
    })
    assert {"django", "drf"} <= project.stacks
    assert routes(project) == {
        ("GET", "/api/v1/orders/"), ("POST", "/api/v1/orders/"), ("GET", "/api/v1/orders/{number}/"),
        ("PUT", "/api/v1/orders/{number}/"), ("PATCH", "/api/v1/orders/{number}/"),
        ("DELETE", "/api/v1/orders/{number}/"), ("GET", "/api/v1/orders/open/"),
        ("POST", "/api/v1/orders/{number}/cancel-now/"), ("GET", "/api/v1/orders/{number}/lines/{line_id}/receipt/"),
        ("GET", "/api/v1/tags/"), ("GET", "/api/v1/tags/{pk}/"),
    }
    receipt = endpoint(project, "GET", "/api/v1/orders/{number}/lines/{line_id}/receipt/")
    assert [(parameter.name, parameter.source) for parameter in receipt.parameters] == [
        ("number", "path"), ("line_id", "path")]
    listing = endpoint(project, "GET", "/api/v1/orders/")
    assert listing.framework == "drf" and listing.handler == "shop.views.OrderViewSet.list"
    assert listing.returns == "collection" and listing.location.line == 7  # the class line
    assert listing.pagination == [
        "DEFAULT_PAGINATION_CLASS = rest_framework.pagination.PageNumberPagination (PAGE_SIZE 20)"]
    assert endpoint(project, "GET", "/api/v1/orders/{number}/").returns == "item"
    assert [(parameter.name, parameter.source) for parameter in
            endpoint(project, "GET", "/api/v1/orders/{number}/").parameters] == [("number", "path")]
    assert endpoint(project, "DELETE", "/api/v1/orders/{number}/").returns == "none"
    custom = endpoint(project, "GET", "/api/v1/orders/open/")
    assert custom.returns == "collection" and custom.pagination == [] and custom.location.line == 12
    tags = endpoint(project, "GET", "/api/v1/tags/")
    assert tags.pagination == [] and tags.hard_cap == "[:100]"  # pagination_class = None; a cap is no paging


def test_imported_router_trailing_slash_and_augmented_urlpatterns(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/views.py": VIEWSETS,
        "shop/routers.py": """
            from rest_framework.routers import SimpleRouter

            from shop import views

            router = SimpleRouter(trailing_slash=False)
            router.register("orders", views.OrderViewSet)
        """,
        "shop/urls.py": """
            from django.urls import path
            from rest_framework.urlpatterns import format_suffix_patterns

            from shop.routers import router

            urlpatterns = format_suffix_patterns([])
            urlpatterns += router.urls
        """,
    })
    assert ("GET", "/api/orders") in routes(project)
    assert ("GET", "/api/orders/{number}") in routes(project)
    assert ("POST", "/api/orders/{number}/cancel-now") in routes(project)


def test_as_view_routes_generic_views_and_apiviews(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/views.py": """
            from rest_framework import generics, mixins
            from rest_framework.pagination import CursorPagination
            from rest_framework.response import Response
            from rest_framework.views import APIView

            from shop.models import Order
            from shop.serializers import OrderSerializer


            class OrderList(generics.ListCreateAPIView):
                queryset = Order.objects.all()[:500]


            class OrderDetail(generics.RetrieveUpdateDestroyAPIView):
                queryset = Order.objects.all()


            class Recent(APIView):
                def get(self, request):
                    limit = int(request.query_params.get("limit", 10))
                    return Response(OrderSerializer(Order.objects.all()[:limit], many=True).data)

                def post(self, request):
                    serializer = OrderSerializer(data=request.data)
                    serializer.is_valid(raise_exception=True)
                    return Response(serializer.data, status=201)


            class Top(APIView):
                permission_classes = [IsAdminUser]

                def get(self, request):
                    orders = Order.objects.order_by("-total")[:5]
                    serializer = OrderSerializer(orders, many=True)
                    return Response(serializer.data)


            class Mixed(mixins.ListModelMixin, generics.GenericAPIView):
                pagination_class = CursorPagination

                def get(self, request, *args, **kwargs):
                    return self.list(request, *args, **kwargs)


            class Logged(generics.ListAPIView):
                def get(self, request, *args, **kwargs):
                    log(request)
                    return super().get(request, *args, **kwargs)


            class ByCustomer(generics.GenericAPIView):
                def get(self, request, customer_id):
                    page = self.paginate_queryset(Order.objects.filter(customer_id=customer_id))
                    return self.get_paginated_response(OrderSerializer(page, many=True).data)
        """,
        "shop/urls.py": """
            from django.urls import path, re_path
            from django.conf.urls import url

            from shop import views

            urlpatterns = [
                path("orders/", views.OrderList.as_view()),
                re_path(r"^orders/(?P<pk>[0-9]+)/$", views.OrderDetail.as_view()),
                path("recent/", views.Recent.as_view()),
                url(r"^top/$", views.Top.as_view()),
                path("mixed/", views.Mixed.as_view()),
                path("logged/", views.Logged.as_view()),
                path("customers/<int:customer_id>/orders/", views.ByCustomer.as_view()),
            ]
        """,
    })
    listing = endpoint(project, "GET", "/api/orders/")
    assert listing.returns == "collection" and listing.hard_cap == "[:500]" and listing.pagination
    assert endpoint(project, "POST", "/api/orders/").returns == "item"
    assert {method for method, path in routes(project) if path == "/api/orders/{pk}/"} == {
        "GET", "PUT", "PATCH", "DELETE"}
    recent = endpoint(project, "GET", "/api/recent/")
    # an APIView builds its own response: DEFAULT_PAGINATION_CLASS does not apply, the client's limit does
    assert recent.returns == "collection" and recent.pagination == ["slice [:limit] from request values"]
    assert [(parameter.name, parameter.source) for parameter in recent.parameters] == [("limit", "query")]
    assert recent.location.line == 18 and recent.handler == "shop.views.Recent.get"
    assert endpoint(project, "POST", "/api/recent/").validation == ["serializer.is_valid()"]
    top = endpoint(project, "GET", "/api/top/")
    assert top.returns == "collection" and top.hard_cap == "[:5]" and top.pagination == []
    assert top.auth == ["permission_classes = [IsAdminUser]"]
    assert endpoint(project, "GET", "/api/mixed/").pagination == ["pagination_class = CursorPagination"]
    logged = endpoint(project, "GET", "/api/logged/")
    assert logged.returns == "collection" and logged.pagination
    by_customer = endpoint(project, "GET", "/api/customers/{customer_id}/orders/")
    assert by_customer.returns == "collection" and by_customer.pagination


def test_list_overrides_keep_pagination_only_through_paginate_queryset(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/views.py": """
            from rest_framework import viewsets
            from rest_framework.response import Response


            class Plain(viewsets.ModelViewSet):
                def list(self, request):
                    return Response(self.get_serializer(self.get_queryset(), many=True).data)


            class Paged(viewsets.ModelViewSet):
                def list(self, request):
                    page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
                    return self.get_paginated_response(self.get_serializer(page, many=True).data)


            class Delegating(viewsets.ModelViewSet):
                def list(self, request, *args, **kwargs):
                    response = super().list(request, *args, **kwargs)
                    return response


            class Unpaged(viewsets.ModelViewSet):
                pagination_class = None

                def list(self, request):
                    page = self.paginate_queryset(self.get_queryset())
                    return Response(self.get_serializer(page, many=True).data)
        """,
        "shop/urls.py": """
            from rest_framework.routers import DefaultRouter

            from shop import views

            router = DefaultRouter()
            for name, viewset in []:
                pass
            router.register("plain", views.Plain, "plain")
            router.register("paged", views.Paged, "paged")
            router.register("delegating", views.Delegating, "delegating")
            router.register("unpaged", views.Unpaged, "unpaged")
            urlpatterns = router.urls
        """,
    })
    plain = endpoint(project, "GET", "/api/plain/")
    assert plain.returns == "collection" and plain.pagination == [] and plain.location.line == 5
    assert endpoint(project, "GET", "/api/paged/").pagination
    assert endpoint(project, "GET", "/api/delegating/").pagination
    assert endpoint(project, "GET", "/api/unpaged/").pagination == []


def test_function_views(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/views.py": """
            from django.core.paginator import Paginator
            from django.http import JsonResponse
            from django.views.decorators.http import require_http_methods
            from rest_framework.decorators import api_view, permission_classes
            from rest_framework.response import Response

            from shop.models import Order
            from shop.serializers import OrderSerializer


            @api_view(["GET", "POST"])
            @permission_classes([IsAuthenticated])
            def orders(request):
                return Response(OrderSerializer(Order.objects.all(), many=True).data)


            @api_view()
            def order(request, pk):
                return Response(OrderSerializer(Order.objects.get(pk=pk)).data)


            def export(request):
                return JsonResponse(list(Order.objects.values()), safe=False)


            @require_http_methods(["GET"])
            def feed(request):
                pages = Paginator(Order.objects.all(), 50)
                page = pages.get_page(request.GET.get("page"))
                return JsonResponse([order.id for order in page], safe=False)


            def stats(request):
                return JsonResponse({"count": Order.objects.count()})


            @api_view(["GET"])
            def envelope(request):
                serializer = OrderSerializer(Order.objects.all(), many=True)
                return Response({"results": serializer.data, "total": Order.objects.count()})


            @api_view(["GET"])
            def window(request, start):
                return Response({"orders": OrderSerializer(Order.objects.all()[start:start + 10], many=True).data})


            def helper(queryset):
                return list(queryset)
        """,
        "shop/urls.py": """
            from django.urls import path

            from shop import views
            from shop.views import export

            urlpatterns = [
                path("orders/", views.orders),
                path("orders/<int:pk>/", views.order),
                path("export/", export),
                path("feed/", views.feed),
                path("stats/", views.stats),
                path("envelope/", views.envelope),
                path("window/<int:start>/", views.window),
            ]
        """,
    })
    listing = endpoint(project, "GET", "/api/orders/")
    assert listing.methods == ("GET", "POST") and listing.framework == "drf"
    assert listing.returns == "collection" and listing.pagination == [] and listing.location.line == 12
    assert listing.auth == ["permission_classes([IsAuthenticated])"]
    assert endpoint(project, "GET", "/api/orders/{pk}/").returns == "item"
    exported = endpoint(project, "GET", "/api/export/")
    assert exported.framework == "django" and exported.returns == "collection" and exported.pagination == []
    feed = endpoint(project, "GET", "/api/feed/")
    assert feed.pagination == ["Paginator(...)"] and [parameter.name for parameter in feed.parameters] == ["page"]
    assert endpoint(project, "GET", "/api/stats/").returns == "item"
    assert not any(item.handler.endswith("helper") for item in project.endpoints)
    wrapped = endpoint(project, "GET", "/api/envelope/")
    assert wrapped.returns == "collection" and wrapped.returns_detail == '{"results": serializer(many=True)}'
    window = endpoint(project, "GET", "/api/window/{start}/")
    assert window.returns == "collection" and window.pagination == ["slice [start:start + 10] from request values"]


def test_django_class_based_views(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/views.py": """
            from django.http import JsonResponse
            from django.views import View
            from django.views.generic import ListView


            class OrderExport(View):
                def get(self, request):
                    return JsonResponse(list(Order.objects.values("id")), safe=False)


            class OrderPage(ListView):
                paginate_by = 20
        """,
        "shop/urls.py": """
            from django.urls import path

            from shop.views import OrderExport, OrderPage

            urlpatterns = [path("export/", OrderExport.as_view()), path("page/", OrderPage.as_view())]
        """,
    })
    exported = endpoint(project, "GET", "/api/export/")
    assert exported.framework == "django" and exported.returns == "collection" and exported.location.line == 6


def test_global_pagination_class_must_really_page(tmp_path: Path) -> None:
    views = {
        "shop/views.py": """
            from rest_framework import generics


            class Orders(generics.ListAPIView):
                pass
        """,
        "shop/pagination.py": """
            from rest_framework.pagination import PageNumberPagination


            class SizedPagination(PageNumberPagination):
                page_size = 30
        """,
        "shop/urls.py": """
            from django.urls import path

            from shop.views import Orders

            urlpatterns = [path("orders/", Orders.as_view())]
        """,
    }

    def pagination(settings_text: str) -> list[str]:
        root = tmp_path / str(len(list(tmp_path.iterdir())))
        return endpoint(build(root, views, settings_text), "GET", "/api/orders/").pagination

    base = 'ROOT_URLCONF = "proj.urls"\n'
    # PageNumberPagination without a page size returns everything
    assert pagination(base + 'REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": '
                              '"rest_framework.pagination.PageNumberPagination"}\n') == []
    assert pagination(base + 'REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": '
                              '"rest_framework.pagination.LimitOffsetPagination"}\n')
    assert pagination(base + 'REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": "shop.pagination.SizedPagination"}\n')
    assert pagination(base + 'REST_FRAMEWORK = {"PAGE_SIZE": 10}\n') == []  # a size without a class pages nothing


def test_without_urls_drf_views_are_endpoints_with_unknown_paths(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/views.py": """
            from rest_framework import generics
            from rest_framework.decorators import api_view
            from rest_framework.response import Response


            class BaseList(generics.ListAPIView):
                pagination_class = None


            class Orders(BaseList):
                pass


            @api_view(["GET"])
            def ping(request):
                return Response("pong")
        """,
    }, settings_text="")
    (tmp_path / "proj" / "urls.py").unlink()
    workspace = Workspace(tmp_path)
    workspace.scan()
    project, _ = workspace.resolve()
    assert sorted((item.handler, item.path) for item in project.endpoints) == [
        ("shop.views.Orders.list", ""), ("shop.views.ping", "")]


def test_url_configurations_nothing_includes_are_walked_without_prefix(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/views.py": VIEWSETS,
        "shop/urls.py": "urlpatterns = []\n",
        "legacy/urls.py": """
            from django.urls import include, path
            from shop.views import OrderViewSet

            urlpatterns = [path("old/", OrderViewSet.as_view({"get": "list"})), path("v0/", include("legacy.v0"))]
        """,
        "legacy/v0.py": """
            from django.urls import path
            from shop.views import TagViewSet

            urlpatterns = [path("tags/", TagViewSet.as_view({"get": "list"}))]
        """,
    })
    assert routes(project) == {("GET", "/old/"), ("GET", "/v0/tags/")}


def test_as_view_with_action_mapping(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/views.py": VIEWSETS,
        "shop/urls.py": """
            from django.urls import path
            from shop.views import OrderViewSet

            urlpatterns = [path("orders/", OrderViewSet.as_view({"get": "list", "post": "create"}))]
        """,
    })
    assert routes(project) == {("GET", "/api/orders/"), ("POST", "/api/orders/")}
    assert endpoint(project, "GET", "/api/orders/").returns == "collection"


URL_LINES = [
    "from django.urls import include, path, re_path", "from rest_framework import routers, viewsets",
    "router = routers.DefaultRouter(", "router.register(r'x', V)", "router.register(r'x', 3)",
    "urlpatterns = [", "    path('a/', include('shop.urls')),", "    path('b/', V.as_view({'get': }))",
    "    re_path(r'^(?P<pk>[0-9]+$', v)", "]", "urlpatterns += router.urls", "urlpatterns = router.urls + [",
    "class V(viewsets.ModelViewSet):", "    pagination_class = None", "    @action(detail=",
    "    def list(self, request):", "        return Response(S(self.get_queryset()[:], many=True).data)",
    "@api_view([", "def v(request):", "    return JsonResponse(list(), safe=False)", "    x = request.GET[",
    "REST_FRAMEWORK = {'DEFAULT_PAGINATION_CLASS': None}", "ROOT_URLCONF = 'urls'", "    path(", "def f(:",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(URL_LINES), max_size=25), st.text(max_size=60))
def test_broken_view_code_never_raises(lines: list[str], noise: str) -> None:
    text = "\n".join(lines) + "\n" + noise
    for path in ("shop/urls.py", "shop/views.py"):
        facts = extract_file(path, text.encode("utf-8", errors="replace"))
        assert not facts.failures, facts.failures


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(URL_LINES), max_size=20), st.lists(st.sampled_from(URL_LINES), max_size=20))
def test_broken_view_projects_resolve_without_failures(tmp_path_factory, first: list[str],
                                                       second: list[str]) -> None:
    workspace = Workspace(tmp_path_factory.mktemp("proj"))
    workspace.update_file("urls.py", "\n".join(first).encode())
    workspace.update_file("shop/urls.py", "\n".join(second).encode())
    workspace.update_file("shop/views.py", "\n".join(first + second).encode())
    _, failures = workspace.resolve()
    assert not failures


# ------------------------------------------------------------------------------------ status, throttles, groups


def test_generic_create_and_destroy_answer_201_and_204_and_throttles_count(tmp_path: Path) -> None:
    throttles = '\n    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],'
    settings_text = PAGE_NUMBER_SETTINGS.replace('"PAGE_SIZE": 20,', '"PAGE_SIZE": 20,' + throttles)
    project = build(tmp_path, {
        "shop/urls.py": """
            from django.urls import path
            from rest_framework.routers import DefaultRouter
            from shop import views

            router = DefaultRouter()
            router.register("orders", views.OrderViewSet)
            urlpatterns = [
                path("login/", views.login),
                path("open/", views.Open.as_view()),
            ] + router.urls
        """,
        "shop/views.py": """
            from rest_framework import viewsets
            from rest_framework.decorators import api_view, throttle_classes
            from rest_framework.views import APIView
            from shop.models import Order
            from shop.serializers import OrderSerializer

            class OrderViewSet(viewsets.ModelViewSet):
                queryset = Order.objects.all()
                serializer_class = OrderSerializer

            class Open(APIView):
                throttle_classes = []

                def post(self, request):
                    limit = min(int(request.query_params.get("limit", 10)), 50)
                    return Response([])

            @api_view(["POST"])
            @throttle_classes([LoginThrottle])
            def login(request):
                return Response({})
        """,
    }, settings_text)
    assert endpoint(project, "POST", "/api/orders/").status_code == 201
    assert endpoint(project, "DELETE", "/api/orders/{pk}/").status_code == 204
    assert endpoint(project, "GET", "/api/orders/").status_code is None
    assert endpoint(project, "GET", "/api/orders/").rate_limit == [
        "DEFAULT_THROTTLE_CLASSES = rest_framework.throttling.UserRateThrottle"]
    assert endpoint(project, "POST", "/api/open/").rate_limit == []
    assert endpoint(project, "POST", "/api/login/").rate_limit == ["throttle_classes([LoginThrottle])"]
    [limit] = [p for p in endpoint(project, "POST", "/api/open/").parameters if p.name == "limit"]
    assert limit.upper_bound == "50"
    groups = {item.group for item in project.endpoints}
    assert groups == {"shop.urls", "shop.urls.router"}
    locations = {(item.group_location.path, item.group_location.line) for item in project.endpoints
                 if item.group_location is not None}
    assert locations == {("proj/urls.py", 2)}  # both are included by path("api/", include("shop.urls"))


def test_a_plain_mixin_gives_a_viewset_its_actions_and_lookup(tmp_path: Path) -> None:
    # pretix: `class ExportersMixin:` (no base) defines list/retrieve and an @action; `OrderViewSetMixin` sets
    # `lookup_field = "code"`. Neither was read, so the viewsets had no endpoints and orders used `{pk}`.
    project = build(tmp_path, {
        "shop/views.py": """
            from rest_framework import viewsets
            from rest_framework.decorators import action
            from rest_framework.response import Response


            class ExportersMixin:
                lookup_field = "identifier"

                def list(self, request, *args, **kwargs):
                    return Response({"results": []})

                def retrieve(self, request, *args, **kwargs):
                    return Response({})

                @action(detail=True, methods=["POST"])
                def run(self, request, *args, **kwargs):
                    return Response({}, status=202)


            class ExportersViewSet(ExportersMixin, viewsets.ViewSet):
                permission_classes = []
        """,
        "shop/urls.py": """
            from django.urls import include, path
            from rest_framework import routers

            from shop.views import ExportersViewSet

            router = routers.DefaultRouter()
            router.register(r"exporters", ExportersViewSet, basename="exporters")

            urlpatterns = [path("v1/", include(router.urls))]
        """,
    })
    assert routes(project) == {("GET", "/api/v1/exporters/"), ("GET", "/api/v1/exporters/{identifier}/"),
                               ("POST", "/api/v1/exporters/{identifier}/run/")}
