"""Dashboard forms of the Models & extensions tab; the rules are the API's
(``instances.file_rules``, ``instances.previews``), and the services check them again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hostfiles import previews, sources
from hostfiles import rules as file_rules
from hostfiles.models import DownloadSource, ModelKind


def _checked(check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except ValidationError as exc:
        raise forms.ValidationError(exc.messages) from None


class DownloadForm(forms.Form):
    """A model file to download onto the host: a URL, or a repository file on Hugging Face or
    ModelScope. Field names match the API's."""

    url = forms.CharField(
        label=gettext_lazy("URL of the file"),
        max_length=file_rules.MAX_URL_LENGTH,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://huggingface.co/…/model.safetensors"}),
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Or from a repository on"),
        choices=[("", gettext_lazy("(a URL above)")), *DownloadSource.choices],
        required=False,
    )
    repo = forms.CharField(
        label=gettext_lazy("Repository"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "owner/name"}),
    )
    file = forms.CharField(
        label=gettext_lazy("File in the repository"),
        max_length=sources.MAX_PATH_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "unet/model.safetensors"}),
    )
    revision = forms.CharField(
        label=gettext_lazy("Revision (optional)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "main / master"}),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ModelKind.choices)
    directory = forms.CharField(label=gettext_lazy("Sub-folder (optional)"), required=False)
    filename = forms.CharField(label=gettext_lazy("File name (optional)"), required=False)
    sha256 = forms.CharField(label=gettext_lazy("SHA-256 (optional)"), required=False)
    overwrite = forms.BooleanField(
        label=gettext_lazy("Replace a file of the same name"), required=False
    )

    def clean_url(self) -> str:
        value = self.cleaned_data.get("url", "")
        return _checked(file_rules.validate_download_url, value) if value.strip() else ""

    def clean_filename(self) -> str:
        value = self.cleaned_data.get("filename", "")
        return _checked(file_rules.validate_filename, value) if value.strip() else ""

    def clean_sha256(self) -> str:
        return _checked(file_rules.validate_sha256, self.cleaned_data.get("sha256", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "kind" in data:
            try:
                file_rules.model_folder(data["kind"], data.get("directory", ""))
            except ValidationError as exc:
                self.add_error("directory", exc.messages)
        if "url" not in data:
            return data
        try:
            # The team's endpoint is the service's to apply; the checks do not depend on it.
            resolved = sources.resolve(
                url=data["url"],
                source=data.get("source", ""),
                repo=data.get("repo", ""),
                file=data.get("file", ""),
                revision=data.get("revision", ""),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field, messages)
            return data
        try:
            file_rules.validate_download_url(resolved.url)
        except ValidationError as exc:
            self.add_error("url", exc.messages)
        if (
            not data.get("filename")
            and "filename" not in self.errors
            and not file_rules.filename_from_url(resolved.url)
        ):
            self.add_error(
                "filename",
                _(
                    "The URL does not end with a model file name: give the file name "
                    "(e.g. model_v1.safetensors)."
                ),
            )
        return data


class ExtensionForm(forms.Form):
    """An extension to install from a git repository."""

    url = forms.CharField(
        label=gettext_lazy("Repository"),
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://github.com/owner/name"}),
    )
    name = forms.CharField(label=gettext_lazy("Folder name (optional)"), required=False)
    ref = forms.CharField(label=gettext_lazy("Branch, tag or commit (optional)"), required=False)
    restart_webui = forms.BooleanField(
        label=gettext_lazy("Restart the WebUI afterwards"), required=False, initial=True
    )

    def clean_url(self) -> str:
        return _checked(file_rules.validate_extension_url, self.cleaned_data["url"])

    def clean_name(self) -> str:
        value = self.cleaned_data.get("name", "")
        return _checked(file_rules.validate_extension_name, value) if value.strip() else ""

    def clean_ref(self) -> str:
        return _checked(file_rules.validate_git_ref, self.cleaned_data.get("ref", ""))


class PreviewForm(forms.Form):
    image = forms.FileField(label=gettext_lazy("Image (PNG, JPEG, WebP or GIF)"))

    def clean_image(self) -> bytes:
        upload = self.cleaned_data["image"]
        if upload.size > previews.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The image is larger than %(max)d MB.")
                % {"max": previews.MAX_UPLOAD_BYTES // 2**20}
            )
        return _checked(previews.make_preview, upload.read())
