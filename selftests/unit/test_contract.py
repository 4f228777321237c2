"""Units of the contract: profiles, the catalog, targets."""

import json
from dataclasses import replace

import pytest

from dfns_contract.contract import schemas
from dfns_contract.contract.binding import check_binding, load_catalog, load_contract
from dfns_contract.contract.schemas import contract_path, published_contracts
from dfns_contract.contract.catalog import Catalog, CatalogError, DocumentedError
from dfns_contract.contract.profile import ProfileError, env_name, load_profile
from dfns_contract.contract.recipes import RECIPES, Recipe, RecipeError, recipe
from dfns_contract.contract.target import DEFAULT_SENSITIVE_URL, TargetError, check_base_url, check_sensitive_url, is_sensitive


class TestProfile:
    def test_env_names(self):
        assert env_name("appId") == "DFNS_APP_ID"
        assert env_name("limitedPrincipalKind") == "DFNS_LIMITED_PRINCIPAL_KIND"

    def test_env_overrides_single_keys(self, tmp_path):
        path = tmp_path / "p.json"
        path.write_text(json.dumps({"appId": "ap-file", "orgId": "or-file"}))
        profile = load_profile(path, {"DFNS_APP_ID": "ap-env"})
        assert profile["appId"] == "ap-env" and profile["orgId"] == "or-file"
        assert profile.overridden == ("appId",)

    def test_every_problem_listed_without_values(self, tmp_path):
        path = tmp_path / "p.json"
        path.write_text(json.dumps({"appId": 3, "tokn": "x", "privateKey": "s3cr3t-not-a-pem"}))
        with pytest.raises(ProfileError) as error:
            load_profile(path, {})
        text = str(error.value)
        assert "appId" in text and "tokn" in text and "privateKey" in text and "credId" in text
        assert "s3cr3t" not in text

    @pytest.mark.parametrize("content, problem", [("{", "not JSON"), ("[]", "must be a JSON object")])
    def test_malformed_file(self, tmp_path, content, problem):
        path = tmp_path / "p.json"
        path.write_text(content)
        with pytest.raises(ProfileError, match=problem):
            load_profile(path, {})

    def test_missing_file(self, tmp_path):
        with pytest.raises(ProfileError, match="file not found"):
            load_profile(tmp_path / "nope.json", {})


class TestCatalog:
    def test_shipped_catalog_is_valid_and_every_entry_has_its_recipe(self, catalog):
        assert {error.id for error in catalog.errors} <= set(RECIPES)
        assert len(catalog.errors) == 11

    def test_case_ids_are_readable(self, catalog):
        ids = [case.id for case in catalog.cases()]
        assert "nonce-reused-immediately" in ids and "no-jwt-alg-none" in ids and len(ids) == len(set(ids))

    def test_forbidden_template_takes_profile_and_params(self, catalog):
        error = catalog.by_id("forbidden-operation")
        assert error.template_keys() == ["limitedPrincipalKind", "limitedPrincipalId"]
        message = error.expected_message({"limitedPrincipalKind": "CustomerEmployee", "limitedPrincipalId": "us-1"})
        assert message == "CustomerEmployee us-1 is not authorized to perform operation (Auth:Apps:Update)"

    def test_invalid_catalog_is_refused(self, tmp_path):
        path = tmp_path / "c.json"
        path.write_text(json.dumps({"version": "2024-08-19", "doc": "x", "page": "x.md", "errors": [{"id": "Bad Id"}]}))
        with pytest.raises(CatalogError, match="invalid catalog"):
            load_catalog(path)


class TestVersions:
    """Each published version is a catalog file that names itself; the run certifies against what it names."""

    @pytest.mark.parametrize("version", published_contracts())
    def test_each_version_names_itself_and_its_page(self, version):
        catalog = load_contract(version)
        assert catalog.published and catalog.version == catalog.contract == version
        pages = {"2024-08-19": "errors-page-versions/2024-08-19-first.md", "2026": "dfns-docs-2026/api-errors.md"}
        assert catalog.page == pages.get(version, "errors-page-versions/%s.md" % version)
        assert {error.contract for error in catalog.errors} == {version}
        assert catalog.errors[0].doc_reference.startswith("%s (%s) › " % (catalog.doc, version))
        assert catalog.doc == ("api-reference/error-codes" if version == "2026" else "getting-started/errors.md")

    def test_the_latest_is_the_extended_one_with_the_new_401_message(self):
        """2025-02-07 changed one message; every other field of every entry is the extended edit's."""
        latest, extended = (json.loads(contract_path(v).read_text()) for v in ("2025-02-07", "2024-08-19-extended"))
        changed = [(a["id"], a["message"], b["message"]) for a, b in zip(extended["errors"], latest["errors"], strict=True)
                   if a != b]
        assert changed == [("no-jwt", "Not Authorized.", "user token is missing or invalid")]
        assert len(latest["errors"]) == 22

    def test_a_file_of_one_version_under_the_name_of_another_is_refused(self, tmp_path, monkeypatch):
        folder = tmp_path / "contracts"
        folder.mkdir()
        (folder / "2030-01-01.json").write_text(contract_path("2024-08-19").read_text())
        monkeypatch.setattr(schemas, "contract_path", lambda version="2024-08-19": folder / ("%s.json" % version))
        with pytest.raises(CatalogError, match="says it is version 2024-08-19, not 2030-01-01"):
            load_contract("2030-01-01")

    def test_an_unknown_version_names_the_choices(self):
        with pytest.raises(CatalogError, match="choose one of: 2024-08-19, "):
            load_contract("1999-01-01")

    def test_a_catalog_file_of_ones_own_is_no_published_version(self):
        catalog = load_catalog(contract_path("2024-08-19"))
        assert catalog.version == "2024-08-19" and not catalog.published and catalog.contract is None
        assert catalog.title.startswith("catalog ")


class TestTarget:
    @pytest.mark.parametrize("url", ["localhost:8000", "ftp://x", "http://", "http://h:port", "http://h/?q=1"])
    def test_bad_base_urls(self, url):
        with pytest.raises(TargetError, match="--base-url"):
            check_base_url(url)

    def test_trailing_slash_is_dropped(self):
        assert check_base_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"

    @pytest.mark.parametrize("url, sensitive", [("https://api.dfns.io", True), ("https://api.dfns.co/", True), ("https://api.dfns.ninja", False), ("http://127.0.0.1:8000", False)])
    def test_sensitive_default(self, url, sensitive):
        assert is_sensitive(url, DEFAULT_SENSITIVE_URL) is sensitive


class TestBinding:
    """``check_binding`` finds every kind of mismatch between entries and recipes, and none in the shipped pair."""

    @staticmethod
    def recipe(error_id, needs=("appId",), variants=()):
        return Recipe(error_id, lambda ctx, variant: None, needs, variants)

    @staticmethod
    def catalog(*errors):
        return Catalog(tuple(DocumentedError(e, "s", e, 400, "m {orgId}", "read-only", variants=v) for e, v in errors), "c.json")

    def test_the_shipped_catalog_and_recipes_match(self, catalog):
        assert check_binding(catalog) == []

    def test_every_kind_of_mismatch_is_named(self):
        catalog = self.catalog(("a", ("x", "y")), ("b", ()), ("c", ()))
        recipes = {"a": self.recipe("a", variants=("y", "z")), "c": self.recipe("c", needs=("appId", "nope"))}
        problems = check_binding(catalog, recipes, frozenset({"appId", "orgId"}))
        assert problems == [
            "entry 'a': variant 'x' has no code in its recipe (it knows: y, z)",
            "recipe 'a': variant 'z' is not in the catalog entry (it lists: x, y)",
            "entry 'b' has no recipe: register one with @recipe('b', …) in src/dfns_contract/contract/recipes.py",
            "recipe 'c' needs 'nope', which is not a profile key (schemas/profile.json)",
        ]

    def test_a_message_placeholder_must_be_a_profile_key(self):
        problems = check_binding(self.catalog(("a", ())), {"a": self.recipe("a")}, frozenset({"appId"}))
        assert problems == ["entry 'a': its message needs {orgId}, which is neither a param nor a profile key"]

    def test_an_entry_without_recipe_is_pointed_at_the_recipes_of_its_server_row(self):
        """A new entry answered by the same row as a published one: the hint names that entry's recipe, which may
        already send its request; naming it as the entry's ``recipe`` binds the two, a wrong name is refused."""
        new = DocumentedError("wallet-gone", "s", "w", 404, None, "read-only", server_error="WalletNotFound")
        problems = check_binding(Catalog((new,), "c.json"))
        assert len(problems) == 1 and "entry 'wallet-gone' has no recipe: recipes " in problems[0]
        assert "unknown-wallet" in problems[0] and 'name it as the entry\'s "recipe"' in problems[0]
        assert check_binding(Catalog((replace(new, recipe="unknown-wallet"),), "c.json")) == []
        assert check_binding(Catalog((replace(new, recipe="no-such"),), "c.json")) == [
            "entry 'wallet-gone' names the recipe 'no-such', which is not registered "
            "(src/dfns_contract/contract/recipes.py)"]
        unrelated = replace(new, server_error="NoRecipeAnswersThis")
        assert check_binding(Catalog((unrelated,), "c.json")) == [
            "entry 'wallet-gone' has no recipe: register one with @recipe('wallet-gone', …) in "
            "src/dfns_contract/contract/recipes.py"]

    def test_two_recipes_for_one_id_are_refused(self):
        with pytest.raises(RecipeError, match="two recipes for catalog id 'nonce-reused'"):
            recipe("nonce-reused", needs=())(lambda ctx, variant: None)


class TestSensitivity:
    """Sensitivity is judged on the host a URL reaches, not on its spelling."""

    @pytest.mark.parametrize("url", [
        "https://api.dfns.io", "https://api.dfns.io.", "https://x@api.dfns.io", "https://user:pw@API.DFNS.IO/",
        "http://app.dfns.co.:80", "https://api.dfns.io:443/v1", "https://api.uae.dfns.io", "https://api.dfns.co",
    ])
    def test_spellings_of_a_production_host_are_sensitive(self, url):
        assert is_sensitive(url, DEFAULT_SENSITIVE_URL)

    @pytest.mark.parametrize("url", [
        "https://api.dfns.ninja", "https://api.dfns.io.evil.example", "http://127.0.0.1:8000", "https://dfns.io-mirror.example",
    ])
    def test_other_hosts_are_not(self, url):
        """The control: the normalisation does not make everything sensitive."""
        assert not is_sensitive(url, DEFAULT_SENSITIVE_URL)

    def test_an_invalid_pattern_is_one_sentence(self):
        with pytest.raises(TargetError, match="is not a regular expression"):
            check_sensitive_url("api.dfns.(io")
