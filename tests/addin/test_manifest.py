"""The add-in manifest as the running server serves it: well-formed, its elements in the
schema's required order, every URL in it answering, and its function names bound by
the runtime page.

`office-addin-manifest validate` calls an online service, so the order is checked here
against the schema's sequences, written out below from [MS-OWEMXML] "Office XML Schema
for Mail Add-ins" (learn.microsoft.com/openspecs/office_file_formats/ms-owemxml):
section 2 (complex types) and section 5 (full schemas 5.2 appforoffice/1.1,
5.4 mailappversionoverrides, 5.5 mailappversionoverrides/1.1, basic types), and
"How to find the proper order of manifest elements" (learn.microsoft.com/office/dev/
add-ins/develop/manifest-element-ordering).
"""

from __future__ import annotations

import urllib.request
import xml.etree.ElementTree as ET

import pytest

from .conftest import ROOT, open_commands, outlook_context

pytestmark = pytest.mark.browser

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
LOCAL_TYPES = {"VersionOverridesV1_0", "VersionOverridesV1_1"}

# Children of each element, in the order the schema's xs:sequence requires them
# (key: local name, or "local name[xsi:type]" where the type decides the sequence).
SCHEMA_ORDER = {
    # 5.2 OfficeApp (Id .. Requirements) extended by MailApp (Requirements .. VersionOverrides).
    "OfficeApp[MailApp]": ["Id", "AlternateId", "Version", "ProviderName", "DefaultLocale", "DisplayName",
                           "Description", "IconUrl", "HighResolutionIconUrl", "SupportUrl", "AppDomains", "Hosts",
                           "Requirements", "FormSettings", "Permissions", "Rule", "DisableEntityHighlighting",
                           "VersionOverrides"],
    "AppDomains": ["AppDomain"],
    "Hosts": ["Host"],
    "Requirements": ["Sets"],
    "Sets": ["Set"],
    "FormSettings": ["Form"],
    "Form[ItemRead]": ["DesktopSettings", "TabletSettings", "PhoneSettings"],
    "Form[ItemEdit]": ["DesktopSettings", "TabletSettings", "PhoneSettings"],
    "DesktopSettings": ["SourceLocation", "RequestedHeight"],
    "Rule[RuleCollection]": ["Rule"],
    # 5.4 VersionOverridesV1_0 and 5.5 VersionOverridesV1_1.
    "VersionOverrides[VersionOverridesV1_0]": ["Description", "Requirements", "Hosts", "Resources", "VersionOverrides"],
    "VersionOverrides[VersionOverridesV1_1]": ["Description", "Requirements", "Hosts", "Resources",
                                               "WebApplicationInfo", "EquivalentAddins",
                                               "ConnectedServiceControls", "ExtendedPermissions"],
    "ExtendedPermissions": ["ExtendedPermission"],
    # LocaleAwareSetting: a default value and its <Override Locale=...> children.
    "DisplayName": ["Override"],
    "Description": ["Override"],
    "String": ["Override"],
    "Host[MailHost]": ["Runtimes", "DesktopFormFactor", "MobileFormFactor"],  # 2.2 MailHost (1.1)
    "Runtimes": ["Runtime"],
    "Runtime": ["Override"],
    "DesktopFormFactor": ["FunctionFile", "ExtensionPoint", "SupportsSharedFolders"],
    "ExtensionPoint[MessageComposeCommandSurface]": ["OfficeTab", "CustomTab"],
    "ExtensionPoint[AppointmentOrganizerCommandSurface]": ["OfficeTab", "CustomTab"],
    "ExtensionPoint[MessageReadCommandSurface]": ["OfficeTab", "CustomTab"],
    "ExtensionPoint[LaunchEvent]": ["LaunchEvents", "SourceLocation"],  # 2.2 LaunchEvent (1.1)
    "LaunchEvents": ["LaunchEvent"],
    "OfficeTab": ["Group"],
    "Group": ["Label", "Control"],
    # UIControl (Label, Supertip) + UIControlWithIcon (Icon) + Button (Action).
    "Control[Button]": ["Label", "Supertip", "Icon", "Action"],
    "Supertip": ["Title", "Description"],
    "Icon": ["Image"],
    "Action[ExecuteFunction]": ["FunctionName"],
    "Action[ShowTaskpane]": ["SourceLocation", "SupportsPinning", "SupportsNoItemContext", "SupportsMultiSelect"],
    "Resources": ["Images", "Urls", "ShortStrings", "LongStrings"],
    "Images": ["Image"],
    "Urls": ["Url"],
    "ShortStrings": ["String"],
    "LongStrings": ["String"],
}
# Elements with no children in the schema (text or attributes only).
LEAVES = {"Id", "Version", "ProviderName", "DefaultLocale", "IconUrl", "ExtendedPermission",
          "HighResolutionIconUrl", "SupportUrl", "AppDomain", "Set", "SourceLocation", "RequestedHeight",
          "Permissions", "Rule[ItemIs]", "DisableEntityHighlighting", "Override", "FunctionFile", "LaunchEvent",
          "Label", "Title", "Image", "FunctionName", "SupportsPinning", "Url", "Host"}
# Children the schema requires (minOccurs >= 1) where the elements appear.
REQUIRED = {
    "OfficeApp[MailApp]": {"Id", "Version", "ProviderName", "DefaultLocale", "DisplayName", "Description",
                           "Requirements", "FormSettings", "Rule"},
    "Control[Button]": {"Label", "Supertip", "Icon", "Action"},
    "Supertip": {"Title", "Description"},
    "ExtensionPoint[LaunchEvent]": {"LaunchEvents", "SourceLocation"},
    "DesktopFormFactor": {"ExtensionPoint"},
    "Action[ExecuteFunction]": {"FunctionName"},
    "Action[ShowTaskpane]": {"SourceLocation"},
}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def key_of(element: ET.Element) -> str:
    kind = element.get(XSI_TYPE)
    name = local(element.tag)
    return f"{name}[{kind}]" if kind and f"{name}[{kind}]" in SCHEMA_ORDER | dict.fromkeys(LEAVES) else name


def order_problems(element: ET.Element, path: str = "") -> list[str]:
    key = key_of(element)
    here = f"{path}/{key}"
    children = list(element)
    if key in LEAVES or (not children and key not in SCHEMA_ORDER):
        return [] if not children else [f"{here} has children the schema does not allow"]
    if key not in SCHEMA_ORDER:
        return [f"{here}: no schema order written down for it in this test"]
    order = SCHEMA_ORDER[key]
    problems, last = [], -1
    names = [local(child.tag) for child in children]
    for name in names:
        if name not in order:
            problems.append(f"{here}: {name} is not a child the schema allows")
            continue
        if order.index(name) < last:
            problems.append(f"{here}: {name} comes after {order[last]}, the schema wants it before")
        last = max(last, order.index(name))
    missing = REQUIRED.get(key, set()) - set(names)
    problems += [f"{here}: required {name} is missing" for name in sorted(missing)]
    for child in children:
        problems += order_problems(child, here)
    return problems


def test_manifest_is_well_formed_with_the_public_url_filled_in(live):
    status, body, headers = live.request("GET", "/addin/manifest.xml")
    assert status == 200 and headers.get_content_type() == "application/xml"
    root = ET.fromstring(body)
    assert local(root.tag) == "OfficeApp" and root.get(XSI_TYPE) == "MailApp"
    text = body.decode()
    assert "${PUBLIC_URL}" not in text and f"{live.url}/addin/commands/commands.html" in text


def test_elements_follow_the_schema_order(manifest):
    assert order_problems(manifest) == []


@pytest.mark.parametrize(("mixed_up", "expected"), [
    (("Version", "Id"), "Id comes after Version"),
    (("Supertip", "Label"), "Label comes after Supertip"),
    (("LaunchEvents", "SourceLocation"), "LaunchEvents comes after SourceLocation"),
])
def test_order_check_catches_a_swapped_pair(mixed_up, expected):
    """The checker itself: swapping two siblings in the template is reported."""
    root = ET.parse(ROOT / "office_addin" / "manifest.xml").getroot()
    first, second = mixed_up
    for parent in root.iter():
        names = [local(c.tag) for c in parent]
        if first in names and second in names:
            a, b = parent[names.index(first)], parent[names.index(second)]
            i, j = list(parent).index(a), list(parent).index(b)
            parent[i], parent[j] = b, a
            break
    assert any(expected in problem for problem in order_problems(root))


def test_requirement_sets_cover_the_launch_events(manifest):
    ns = {"a": "http://schemas.microsoft.com/office/appforoffice/1.1",
          "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0"}
    base = manifest.find("a:Requirements/a:Sets/a:Set", ns)
    assert (base.get("Name"), base.get("MinVersion")) == ("Mailbox", "1.3")
    overrides = manifest.find(".//bt:Sets", ns)
    assert overrides.get("DefaultMinVersion") == "1.12"  # OnMessageSend needs 1.12
    assert overrides.find("bt:Set", ns).get("Name") == "Mailbox"


LOCALES = ("de-DE", "fr-FR", "es-ES")


def test_names_and_tooltips_have_german_french_and_spanish_overrides(manifest):
    texts = [e for e in manifest.iter() if local(e.tag) == "String"]
    texts.append(next(e for e in manifest if local(e.tag) == "Description"))
    for element in texts:
        if element.get("DefaultValue") in ("Engage", "Engagement"):  # names, the same everywhere
            continue
        overrides = {o.get("Locale"): o.get("Value") for o in element if local(o.tag) == "Override"}
        assert set(overrides) == set(LOCALES), element.get("id") or "Description"
        assert all(v and v != element.get("DefaultValue") for v in overrides.values()), element.get("id")
    track = next(e for e in texts if e.get("id") == "Track.Label")
    assert {o.get("Locale"): o.get("Value") for o in track}["de-DE"] == "E-Mail-Öffnungen verfolgen"


def test_append_on_send_permission_is_asked_for(manifest):
    permissions = [e.text for e in manifest.iter() if local(e.tag) == "ExtendedPermission"]
    assert permissions == ["AppendOnSend"]


def manifest_urls(root: ET.Element) -> list[str]:
    urls = {e.get("DefaultValue") for e in root.iter() if (e.get("DefaultValue") or "").startswith("http")}
    urls |= {e.text.strip() for e in root.iter() if local(e.tag) == "AppDomain"}
    return sorted(urls)


def test_every_url_in_the_manifest_answers(live, manifest):
    urls = manifest_urls(manifest)
    assert len(urls) >= 9
    for url in urls:
        assert url.startswith(live.url), url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url
            kind = response.headers.get_content_type()
            if url.endswith(".png"):
                assert kind == "image/png" and response.read(8) == b"\x89PNG\r\n\x1a\n", url
            elif url.endswith(".html"):
                assert kind == "text/html", url
            elif url.endswith(".js"):
                assert kind == "text/javascript", url


# The flat layout's URLs, which a manifest installed before office_addin/ had folders names.
FLAT_URLS = {"/addin/taskpane.html": "/addin/taskpane/taskpane.html",
             "/addin/commands.html": "/addin/commands/commands.html",
             "/addin/commands.js": "/addin/commands/commands.js"}


@pytest.mark.parametrize(("old", "new"), FLAT_URLS.items())
def test_urls_of_an_earlier_manifest_still_answer(live, old, new):
    old_status, old_body, old_headers = live.request("GET", old)
    new_status, new_body, new_headers = live.request("GET", new)
    assert (old_status, new_status) == (200, 200)
    assert old_body == new_body and old_headers.get_content_type() == new_headers.get_content_type()


@pytest.mark.parametrize("path", ["/addin/commands/commands.html", "/addin/commands.html"])
def test_runtime_binds_every_function_the_manifest_names(browser, live, launch_events, manifest, path):
    names = {e.text for e in manifest.iter() if local(e.tag) == "FunctionName"} | set(launch_events.values())
    assert names == {"trackEmailOpens", "onNewComposeHandler", "onRecipientsChangedHandler", "onSendHandler"}
    context = outlook_context(browser, live, launch_events, token=None)
    try:
        page = open_commands(context, live, path)
        assert set(page.evaluate("() => __officeDouble.associations()")) == names
    finally:
        context.close()
