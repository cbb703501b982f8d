"""import-linter's contract for "a domain reaches another only through its public
services module" (pyproject.toml, [tool.importlinter]): a rule on every pair of domains,
so a new domain or a new module in one is covered without another list."""

from __future__ import annotations

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


class PublicModulesContract(Contract):
    """Each of `domains` imports another only through that one's `public` modules."""

    type_name = "public_modules"

    domains = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        domains = [str(domain) for domain in self.domains]  # type: ignore[attr-defined]
        public = [str(name) for name in self.public]  # type: ignore[attr-defined]
        broken: list[dict[str, object]] = []
        for domain in domains:
            if domain not in graph.modules:
                continue
            for importer in sorted({domain, *graph.find_descendants(domain)}):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    owner = next((other for other in domains if _within(imported, other)), None)
                    if owner is None or owner == domain:
                        continue
                    if imported in {f"{owner}.{name}" for name in public}:
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = sorted({detail["line_number"] for detail in details})
                    broken.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            lines = ", ".join(f"l.{line}" for line in item["lines"])
            output.print_error(f"{item['importer']} -> {item['imported']} ({lines})", bold=False)
        output.new_line()
