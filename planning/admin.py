"""Admin for the things an admin maintains: stores, clusters, categories, users and API tokens.
Season data (workflows, forecasts, allocations) is read-only here; it changes through the
workflow so its events and approvals stay consistent."""
from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone

from planning.models import ApiToken, Category, DataUpload, Run, Season, SeasonEvent, Store, StoreCluster


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = (
        "store_id",
        "name",
        "cluster",
        "fashion_tier",
        "location_tier",
        "store_format",
        "region",
        "store_size_sqft",
        "median_income",
        "avg_weekly_sales_12mo",
    )
    list_filter = ("cluster", "fashion_tier", "location_tier", "store_format", "region")
    search_fields = ("store_id", "name")
    list_select_related = ("cluster",)
    list_per_page = 100
    ordering = ("store_id",)


class StoreInline(admin.TabularInline):
    model = Store
    fields = ("store_id", "name", "fashion_tier", "store_format", "region")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(StoreCluster)
class StoreClusterAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "fashion_tier", "member_stores", "silhouette_score", "updated_at")
    search_fields = ("id", "name")
    readonly_fields = ("store_count", "silhouette_score", "updated_at")
    inlines = [StoreInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("stores"))

    @admin.display(description="Stores", ordering="member_count")
    def member_stores(self, obj):
        return obj.member_count


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "data_version", "created_at")
    search_fields = ("id", "name")
    readonly_fields = ("data_version", "created_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("key_prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "name", "key_prefix")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    fields = ("user", "name", "key_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        raw = None if change else obj.set_new_key()
        super().save_model(request, obj, form, change)
        if raw:
            self.message_user(
                request,
                f"Token created. Copy it now, it will not be shown again: {raw}",
                level=messages.WARNING,
            )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).")


@admin.register(DataUpload)
class DataUploadAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "filename", "rows", "uploaded_by")
    list_filter = ("kind",)
    search_fields = ("filename",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = SeasonEvent
    fields = ("seq", "type", "run", "created_at", "payload")
    readonly_fields = fields
    extra = 0
    can_delete = False


class RunInline(admin.TabularInline):
    model = Run
    fields = ("kind", "week", "status", "step", "runner", "progress_pct", "error", "created_at", "completed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Season)
class SeasonAdmin(admin.ModelAdmin):
    list_display = ("id", "category", "phase", "pending_approval", "current_week", "owner", "created_at")
    list_filter = ("phase", "pending_approval", "category")
    search_fields = ("id", "owner__username")
    inlines = [RunInline, EventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "season", "kind", "week", "status", "step", "runner", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("id", "season__id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
