"""The `maatwerk` command: one obvious thing per command (README, "The `maatwerk` command")."""

from __future__ import annotations

import inspect
import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from api.settings import Settings
from graph.errors import MaatwerkError
from ontology.vocabulary import BY_PARAM, STATUSES, YEAR_PARAMS


class _Cli(typer.Typer):
    """The one mapping of product errors for every command: one clear message on stderr, the error's exit code."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except MaatwerkError as exc:
            _fail(exc)


app = _Cli(
    help="maatwerk-kg: kennisgraaf en zoeken in casussen uit het sociaal domein.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

DataDir = typer.Option(None, "--data-dir", help="Data-map (standaard $MAATWERK_DATA_DIR of ./.maatwerk)")


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings().with_data_dir(data_dir)
    # One line per event on stderr, beside the progress bars; INFO follows an import and an index sync.
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


@contextmanager
def _app(data_dir: Path | None):
    from api.core import Maatwerk

    core = Maatwerk(_settings(data_dir))
    try:
        yield core
    finally:
        core.close()


@contextmanager
def _progress(description: str):
    """A rich progress bar fed by (done, total, phase) callbacks; total 0 means unknown; a new phase restarts it."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None, rate="")
        current = ""

        def update(done: int, total: int, phase: str = "") -> None:
            nonlocal current
            if phase != current:
                current = phase
                bar.reset(task, description=f"{description}: {phase}")
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(task, completed=done, total=total or None, rate=f"{done / elapsed:,.0f}/s")

        yield update


@app.command()
def init(
    demo: bool = typer.Option(True, "--demo/--no-demo", help="Ook de illustratieve voorbeeldcasussen laden"),
    data_dir: Path | None = DataDir,
):
    """Maak de store, laad ontologie en referentiedata (en voorbeeldcasussen), valideer, bouw de indexen."""
    with _app(data_dir) as core, _progress("casussen") as progress:
        core.init(demo=demo, progress=progress)
        report = core.validate()
        health = core.health()
    out.print(f"Klaar: {health['cases']} casussen, {health['triples']} triples in {_settings(data_dir).data_dir}")
    if not report.conforms:
        _print_violations(report)
        raise typer.Exit(1)


@app.command("import-cases")
def import_cases(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".jsonl, .json of .csv"),
    redact: bool = typer.Option(
        False,
        "--redact",
        help="Persoonsgegevens vervangen door [BSN], [NAAM], … "
        "in plaats van weigeren (een id met persoonsgegevens blijft geweigerd)",
    ),
    data_dir: Path | None = DataDir,
):
    """Importeer casussen (alles of niets per bestand). Exit 2 bij geweigerde invoer."""
    with _app(data_dir) as core, _progress(f"import {file.name}") as progress:
        result = core.import_file(file, redact=redact, progress=progress)
    for redaction in result.redactions:
        err.print(f"vervangen: {redaction.case} [{redaction.field}] {redaction.kind}", markup=False)
    if result.redactions:
        from ingest.anonymise import redaction_summary

        err.print(redaction_summary(result.redactions), markup=False)
    out.print(f"{len(result.cases)} casussen geïmporteerd.")


@app.command("import-law")
def import_law(
    source: str = typer.Argument(..., help="BWB toestand-XML-bestand of een BWB-id (BWBR…)"),
    data_dir: Path | None = DataDir,
):
    """Importeer een wet met zijn artikelen uit BWB-XML (bestand of officiële repository)."""
    with _app(data_dir) as core:
        summary = core.import_law(source)
    out.print(f"{summary['title']} ({summary['bwb_id']}): {summary['articles']} artikelen, {summary['leden']} leden.")


@app.command("import-contacts")
def import_contacts(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV met de kolommen uit de README"),
    data_dir: Path | None = DataDir,
):
    """Lees contactpunten in het maatwerkregister in; een organisatie in het bestand krijgt precies deze contactpunten.

    Alles of niets: bij één foute regel wordt niets ingelezen (exit 2). Dit is geen casustekst,
    dus de privacypoort voor casussen loopt er niet over.
    """
    with _app(data_dir) as core:
        result = core.import_contacts(file)
    out.print(f"{result.points} contactpunten van {len(result.organisations)} organisaties ingelezen.")


@app.command()
def rapport(
    jaar: int = typer.Option(..., "--jaar", help="Het jaar van de rapportage, bijv. 2023"),
    out_file: Path = typer.Option(..., "--out", help="Het PDF-bestand dat wordt geschreven"),
    voorbeeld: list[str] = typer.Option([], "--voorbeeld", help="Id van een voorbeeldcasus (herhaalbaar, hoogstens 5)"),
    url: str | None = typer.Option(
        None, "--url", help="Adres van de kennisbank (bijv. https://kennisbank.example), voor de links in de PDF"
    ),
    data_dir: Path | None = DataDir,
):
    """Schrijf de jaarrapportage systeemleren als PDF (Chromium drukt de HTML-versie af)."""
    from api.pdf import html_to_pdf
    from api.ui.report import render_report, report_context

    with _app(data_dir) as core:
        context = report_context(core, jaar, voorbeeld)
    pdf = html_to_pdf(render_report(context, url))
    out_file.write_bytes(pdf)
    out.print(f"Jaarrapportage {jaar} geschreven naar {out_file} ({context['casussen']} casussen).")


feedback_app = typer.Typer(help="Feedback op zoekresultaten (nuttig / niet nuttig).", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    out_file: Path = typer.Option(..., "--out", help="JSONL-bestand in het formaat van search/eval/gold.jsonl"),
    data_dir: Path | None = DataDir,
):
    """Schrijf de feedback als gelabelde zoekvragen (query, relevant, partial, kind, source) om na te kijken."""
    from api.feedback import FeedbackStore, export_pairs

    pairs = export_pairs(FeedbackStore(_settings(data_dir).data_dir).rows())
    with open(out_file, "w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    out.print(f"{len(pairs)} gelabelde zoekvragen geschreven naar {out_file}.")


def search(
    text: str,
    k: int = typer.Option(10, "-k"),
    as_json: bool = typer.Option(False, "--json"),
    mode: str = typer.Option("hybrid+graph", help="lexical, dense, hybrid of hybrid+graph"),
    data_dir: Path | None = DataDir,
    **filters: Any,
):
    """Zoek vergelijkbare casussen bij een beschreven situatie."""
    with _app(data_dir) as core:
        response = core.search().search(text, k, filters, mode)
    _print_results(response, as_json)


def _with_filter_options(command):
    """The search filters as options, named like the API's parameters (`--law`, `--year-from`, …)."""
    options: list[tuple[str, Any, Any]] = [
        (
            param,
            list[str],
            typer.Option([], f"--{param}", help=f"Filter op {kind.label.lower()}: label, slug of IRI (herhaalbaar)"),
        )
        for param, kind in BY_PARAM.items()
    ]
    options.append(("status", list[str], typer.Option([], "--status", help=", ".join(STATUSES) + " (herhaalbaar)")))
    options += [(param, int | None, typer.Option(None, "--" + param.replace("_", "-"))) for param in YEAR_PARAMS]
    signature = inspect.signature(command, eval_str=True)
    fixed = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
        for name, kind, option in options
    ]
    command.__signature__ = signature.replace(parameters=[*fixed, *added])
    command.__annotations__ = {**{p.name: p.annotation for p in fixed}, **{n: t for n, t, _ in options}}
    return command


app.command()(_with_filter_options(search))


@app.command()
def similar(
    case_id: str,
    k: int = typer.Option(10, "-k"),
    as_json: bool = typer.Option(False, "--json"),
    data_dir: Path | None = DataDir,
):
    """Casussen die lijken op een opgeslagen casus."""
    with _app(data_dir) as core:
        response = core.search().similar(case_id, k)
    _print_results(response, as_json)


@app.command()
def sparql(
    query: str = typer.Argument(..., help="SPARQL-query, of @bestand.rq"),
    fmt: str = typer.Option("table", "--format", help="table, json of csv"),
    data_dir: Path | None = DataDir,
):
    """Voer een alleen-lezen SPARQL-query uit."""
    from graph.sparql import run_query

    text = Path(query[1:]).read_text() if query.startswith("@") else query
    with _app(data_dir) as core:
        result = run_query(
            core.kg,
            text,
            timeout_s=core.settings.sparql_timeout_s,
            limit=core.settings.sparql_result_limit,
            max_bytes=core.settings.sparql_max_bytes,
        )
    if fmt == "json":
        sys.stdout.write(result.serialize("application/sparql-results+json").decode() + "\n")
    elif fmt == "csv":
        sys.stdout.write(result.serialize("text/csv").decode())
    elif fmt == "table":
        _print_table(result)
    else:
        err.print("[red]--format is table, json of csv[/red]")
        raise typer.Exit(2)


@app.command()
def validate(data_dir: Path | None = DataDir):
    """SHACL-validatie van de hele graaf; exit 1 als die niet voldoet."""
    from graph.validate import validate_store

    with _app(data_dir) as core, _progress("valideren") as progress:
        report = validate_store(core.kg, progress=progress)
    if report.conforms:
        out.print("[green]De graaf voldoet aan alle SHACL-shapes.[/green]")
        return
    _print_violations(report)
    raise typer.Exit(1)


@app.command()
def reindex(
    compact: bool = typer.Option(
        False, "--compact", help="Voeg de segmenten nu samen tot één nieuwe basis (zonder opnieuw te encoderen)"
    ),
    data_dir: Path | None = DataDir,
):
    """Breng de zoekindex in lijn met de graaf; met --compact ook de segmenten samenvoegen."""
    with _app(data_dir) as core, _progress("indexeren") as progress:
        service = core.search(progress)
        merged = compact and service.merge()
        index = service.index
    out.print(
        f"Zoekindex: {index.alive_count} casussen, {index.extra.rows} in het aanvulsegment, "
        f"{len(index.dead_base_rows)} vervallen rijen{' (net samengevoegd)' if merged else ''}."
    )


@app.command("check-analytics")
def check_analytics(data_dir: Path | None = DataDir):
    """Reken de tellingen en de kubusgraaf opnieuw uit vanuit de graaf en vergelijk; exit 1 bij een verschil."""
    with _app(data_dir) as core:
        found = core.check_analytics()
    if not found:
        out.print("[green]De tellingen en de kubusgraaf kloppen met de graaf.[/green]")
        return
    for difference in found:
        err.print(f"[red]{difference}[/red]")
    raise typer.Exit(1)


@app.command()
def export(
    fmt: str = typer.Option("turtle", "--format", help="turtle, nt, nq of jsonld"), data_dir: Path | None = DataDir
):
    """Schrijf de hele graaf naar stdout."""
    import pyoxigraph as ox

    formats = {
        "turtle": ox.RdfFormat.TURTLE,
        "nt": ox.RdfFormat.N_TRIPLES,
        "nq": ox.RdfFormat.N_QUADS,
        "jsonld": ox.RdfFormat.JSON_LD,
    }
    if fmt not in formats:
        err.print(f"[red]Onbekend formaat {fmt}; kies uit {', '.join(formats)}[/red]")
        raise typer.Exit(2)
    with _app(data_dir) as core:
        sys.stdout.buffer.write(core.kg.export(formats[fmt]))


@app.command("eval")
def evaluate(
    gold: Path | None = typer.Option(None, "--gold", help="JSONL met query, relevant, partial"),
    split: str | None = typer.Option(None, "--split", help="Alleen dit deel van de gold set: tune of heldout"),
    encoder: str | None = typer.Option(
        None, "--encoder", help="Andere encoder dan de index (bouwt een tijdelijke index)"
    ),
    fit_calibration: bool = typer.Option(
        False,
        "--fit-calibration",
        help="Fit relevance en match_quality op het tune-deel en schrijf search/calibration.json",
    ),
    as_json: bool = typer.Option(False, "--json"),
    data_dir: Path | None = DataDir,
):
    """MRR, nDCG@10 en recall@1/5/10 per modus, en hoe vaak match_quality klopt."""
    from graph.cases import case_docs
    from search.calibration import CALIBRATION_FILE
    from search.calibration import fit as fit_model
    from search.encoders import get_encoder
    from search.engine import Ranker
    from search.evaluate import GOLD_FILE, PlainBM25, calibration_samples, load_gold, match_quality_report, unknown_ids
    from search.evaluate import evaluate as run_eval
    from search.index import SearchIndex

    if fit_calibration and split not in (None, "tune"):
        err.print("[red]De calibratie wordt alleen op het tune-deel gefit[/red]")
        raise typer.Exit(2)
    gold_queries = load_gold(gold or GOLD_FILE, split="tune" if fit_calibration else split)
    with _app(data_dir) as core:
        service = core.search()
        ranker = service.ranker
        if encoder and encoder != service.index.encoder.id:
            index = SearchIndex(get_encoder(encoder))
            index.add(case_docs(core.kg))
            ranker = Ranker(index, core.concepts)
        missing = unknown_ids(gold_queries, set(ranker.index.facets.ids))
        if missing:
            err.print(
                f"[yellow]Let op: {len(missing)} case-id's uit de gold set staan niet in de graaf: "
                f"{', '.join(sorted(missing)[:10])}[/yellow]"
            )
        if fit_calibration:
            calibration, fitted = fit_model(calibration_samples(ranker, gold_queries), ranker.index.encoder.id)
            calibration.save()
            out.print(f"Calibratie geschreven naar {CALIBRATION_FILE} ({calibration.queries} tune-queries): {fitted}")
        else:
            calibration = service.calibration
        baseline = PlainBM25(case_docs(core.kg))
        metrics = run_eval(ranker, gold_queries, baseline=baseline)
        by_style = {
            style: run_eval(ranker, [q for q in gold_queries if q.group == style], ("hybrid+graph",), baseline)
            for style in sorted({q.group for q in gold_queries if q.relevant})
        }
        quality = match_quality_report(ranker, gold_queries, calibration)
    if as_json:
        answer = {
            "modes": {m: v.__dict__ for m, v in metrics.items()},
            "by_style": {style: {m: v.__dict__ for m, v in ms.items()} for style, ms in by_style.items()},
            "match_quality": quality.__dict__,
        }
        sys.stdout.write(json.dumps(answer, indent=2) + "\n")
        return
    scored = next(iter(metrics.values())).queries
    part = split or ("tune" if fit_calibration else "alle")
    table = Table(
        "modus",
        "MRR",
        "nDCG@10",
        "recall@1",
        "recall@5",
        "recall@10",
        title=f"{len(gold_queries)} queries ({part}), {scored} gescoord, encoder {ranker.index.encoder.id}",
    )
    for mode, m in metrics.items():
        table.add_row(mode, *(f"{v:.3f}" for v in (m.mrr, m.ndcg10, m.recall1, m.recall5, m.recall10)))
    out.print(table)
    out.print(
        f"match_quality: 'none' bij {quality.none_right:.1%} van {quality.none_queries} vragen zonder precedent; "
        f"niet 'none' bij {quality.real_right:.1%} van {quality.real_queries} vragen met precedent"
    )
    for kind, counts in quality.counts.items():
        out.print(f"  {kind}: " + ", ".join(f"{q} {n}" for q, n in sorted(counts.items())))
    for group, counts in quality.by_group.items():
        out.print(f"    {group}: " + ", ".join(f"{q} {n}" for q, n in sorted(counts.items())))
    styles = Table("stijl", "queries", "MRR", "recall@5", "nDCG@10", "MRR bm25", title="hybrid+graph per stijl")
    for style, ms in by_style.items():
        m, b = ms["hybrid+graph"], ms["bm25"]
        styles.add_row(style, str(m.queries), f"{m.mrr:.3f}", f"{m.recall5:.3f}", f"{m.ndcg10:.3f}", f"{b.mrr:.3f}")
    out.print(styles)


@app.command()
def generate(
    n: int = typer.Option(..., "--n", help="Aantal casussen"),
    out_file: Path = typer.Option(..., "--out"),
    seed: int = typer.Option(1, "--seed"),
):
    """Synthetische casussen in het importformaat, alleen voor schaaltests."""
    from ingest.generate import write

    write(out_file, n, seed)
    out.print(f"{n} synthetische casussen geschreven naar {out_file}")


@app.command()
def serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000), data_dir: Path | None = DataDir):
    """Start de webinterface en de API."""
    import threading

    from search.encoders import get_encoder

    settings = _settings(data_dir)
    # load the model while the web framework imports and the index loads: a shorter cold start
    threading.Thread(target=get_encoder, args=(settings.encoder,), daemon=True).start()
    import uvicorn

    from api.app import create_app
    from graph import KnowledgeGraph

    KnowledgeGraph(settings.store_dir).close()  # a data dir in use: one clear line now, not uvicorn's traceback
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command()
def publish(
    endpoint: str | None = typer.Option(None, "--endpoint", help="SPARQL 1.1 Update-adres van de doelstore"),
    graph_store: str | None = typer.Option(
        None, "--graph-store", help="Graph Store Protocol-adres (heeft voorrang op --endpoint)"
    ),
    full: bool = typer.Option(False, "--full", help="Alles opnieuw sturen, niet alleen wat veranderde"),
    data_dir: Path | None = DataDir,
):
    """Zet de graaf in een andere SPARQL-store: één named graph per casus, alleen wat sinds de vorige keer veranderde.

    Inloggegevens komen uit $MAATWERK_PUBLISH_AUTH (`gebruiker:wachtwoord` of `Bearer <token>`).
    """
    from graph.publish import Target

    with _app(data_dir) as core, _progress("publiceren") as progress:
        report = core.publish(
            Target(update=endpoint, graph_store=graph_store, auth=core.settings.publish_auth or None),
            full=full,
            progress=lambda done, total: progress(done, total, "publiceren"),
        )
    out.print(
        f"{len(report.sent)} graphs verstuurd ({report.triples} triples), {len(report.deleted)} verwijderd, "
        f"{report.unchanged} ongewijzigd."
    )


@app.command("settings")
def show_settings(as_json: bool = typer.Option(False, "--json")):
    """De instellingen: naam, omgevingsvariabele, huidige waarde, standaardwaarde en uitleg (sleutels verborgen)."""
    described = Settings().described()
    if as_json:
        sys.stdout.write(json.dumps(described, ensure_ascii=False, indent=2) + "\n")
        return
    for row in described:
        out.print(
            f"[bold]{row['name']}[/bold] ({row['env']}) = {row['value']}  [dim]standaard: {row['default']}[/dim]",
            highlight=False,
        )
        out.print(f"    {row['help']}", markup=False, highlight=False)


def _fail(exc: MaatwerkError) -> NoReturn:
    """One clear message on stderr (and the details that list what to fix), then the error's exit code."""
    # markup off: a path or a value may contain [brackets]; soft_wrap: one line a script can grep
    message = " ".join(exc.message.splitlines())
    err.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    for line in exc.lines()[:200]:
        err.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    raise SystemExit(exc.exit_code)


def _print_violations(report) -> None:
    err.print(f"[red]De graaf voldoet niet: {len(report.violations)} overtreding(en)[/red]")
    for violation in report.violations[:200]:
        err.print(f"  {violation}", markup=False, highlight=False)


def _print_results(response: dict, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(response, ensure_ascii=False, indent=2) + "\n")
        return
    for warning in response.get("warnings", []):
        err.print(f"[yellow]{warning}[/yellow]")
    concepts = ", ".join(c["label"] for c in response["query_concepts"]) or "geen"
    out.print(f"[dim]Herkend in de vraag: {concepts}[/dim]")
    if response["match_quality"] == "none":
        out.print("[bold]Geen vergelijkbare casus gevonden.[/bold] Misschien, met een zwakke overeenkomst:")
    elif response["match_quality"] == "weak":
        out.print("[bold]Geen sterke overeenkomst.[/bold] Deze casussen lijken deels op de situatie:")
    for n, result in enumerate(response["results"], 1):
        laws = ", ".join(law["label"] for law in result["laws"])
        out.print(
            f"[bold]{n}. {result['title']}[/bold]  [dim]{result['id']} · {result['relevance_label']} "
            f"({result['relevance']:.0%})[/dim]"
        )
        out.print(f"   [italic]{result['explanation']['best_passage']}[/italic]", highlight=False)
        if result["solution"]:
            out.print(f"   Oplossing: {result['solution'][:300]}", highlight=False)
        if laws:
            out.print(f"   Wetten: {laws}", highlight=False)
    if not response["results"]:
        out.print("Geen casussen gevonden.")


def _print_table(result) -> None:
    rows = result.rows()
    table = Table(*result.variables, show_lines=False)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)
    out.print(f"[dim]{len(rows)} rij(en)[/dim]")


# --- writers' accounts ---------------------------------------------------------------------------

users = typer.Typer(help="Schrijvers: accounts voor de formulieren in de browser.", no_args_is_help=True)
app.add_typer(users, name="user")


@users.command("add")
def user_add(
    name: str = typer.Argument(..., help="Naam waarmee de schrijver zich aanmeldt"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Lees het wachtwoord van stdin"),
    data_dir: Path | None = DataDir,
):
    """Een schrijver toevoegen (het wachtwoord wordt gevraagd, twee keer)."""
    from api.auth import Accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Wachtwoord", hide_input=True, confirmation_prompt="Nog een keer")
    account = Accounts(_settings(data_dir).data_dir).add(name, password)
    out.print(f"Schrijver {account.name} toegevoegd ({account.writer.label}).")


@users.command("remove")
def user_remove(name: str = typer.Argument(...), data_dir: Path | None = DataDir):
    """Een schrijver verwijderen; een open sessie van die schrijver werkt meteen niet meer."""
    from api.auth import Accounts

    Accounts(_settings(data_dir).data_dir).remove(name)
    out.print(f"Schrijver {name} verwijderd.")


@users.command("list")
def user_list(as_json: bool = typer.Option(False, "--json"), data_dir: Path | None = DataDir):
    """De schrijvers: naam, kenmerk in de graaf en sinds wanneer."""
    from api.auth import Accounts

    accounts = Accounts(_settings(data_dir).data_dir).list()
    rows = [{"name": a.name, "label": a.writer.label, "agent": a.writer.iri, "created": a.created} for a in accounts]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table("naam", "kenmerk", "sinds")
    for row in rows:
        table.add_row(row["name"], row["label"], row["created"])
    out.print(table if rows else "Nog geen schrijvers; voeg er een toe met `maatwerk user add NAAM`.")


if __name__ == "__main__":
    app()
