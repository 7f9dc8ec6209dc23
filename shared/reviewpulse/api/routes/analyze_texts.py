from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from reviewpulse import wiring
from reviewpulse.analysis.options import OptionsRequest
from reviewpulse.api.auth import request_id, scoped
from reviewpulse.api.dependencies import on_the_loop
from reviewpulse.api.problems import problem_responses
from reviewpulse.api.schemas import TaskView
from reviewpulse.api.schemas_analyze import AnalyzeTextsRequest, AnalyzeTextsResponse, TokenUsageView
from reviewpulse.tenant_models.repository import ModelRepository
from reviewpulse.tenants.scopes import Scope
from reviewpulse.usecases.analyze_texts import AnalyzeNow, Answering, NewTexts, analyze_now, queue_texts_task
from reviewpulse.usecases.create_task import TaskQueueing
from reviewpulse.usecases.models import check_task_model, with_default_model
from reviewpulse.usecases.resolve_options import check_compare, check_teach, resolve_options

router = APIRouter(tags=["analysis"])


@router.post(
    "/v1/analyze",
    operation_id="analyzeTexts",
    response_model=AnalyzeTextsResponse,
    summary="Analyse up to 25 texts and answer at once",
    description=(
        "Like Comprehend's BatchDetectSentiment: each text's label, score, confidence and the probability of each "
        "label, with per-text errors inline. The lexicon always answers here; llm and auto answer here when they "
        "finish within the API's time limit, else the answer is 202 with a task to follow (Location header). "
        "LLM requests are reserved against the tenant's monthly budget: texts it has no room for are answered by "
        "the lexicon (engine lexicon-budget)."
    ),
    responses={
        202: {"model": TaskView, "description": "Not answered in time: a task analyses the texts (see Location)"},
        **problem_responses(400, 404, 409, 413),
    },
)
async def analyze_texts(
    body: AnalyzeTextsRequest,
    request: Request,
    tenant: str = scoped(Scope.ANALYZE),
    queueing: TaskQueueing = Depends(on_the_loop(wiring.task_queueing)),
    answering: Answering = Depends(on_the_loop(wiring.answering)),
    models: ModelRepository = Depends(on_the_loop(wiring.model_repository)),
) -> AnalyzeTextsResponse | JSONResponse:
    # Run on the event loop, not on a worker thread (see on_the_loop): a Lambda environment serves
    # one request at a time, so the loop has nothing else to do while the texts are analysed.
    settings = queueing.settings
    # The tenant's default model where the options name none, as for a task; checked at once.
    requested = OptionsRequest.model_validate(body.options.model_dump())
    check_compare(requested)
    check_task_model(tenant, requested.model_id, models=models)
    requested = with_default_model(tenant, requested, settings.default_engine, models=models)
    options = resolve_options(requested, settings, columns=[])
    check_teach(options, settings, batch=False)
    answered = analyze_now(AnalyzeNow(tenant, body.texts, options), answering)
    if answered is not None:
        return AnalyzeTextsResponse(
            engine=answered.engine,
            results=[vars(result) for result in answered.results],
            errors=[vars(error) for error in answered.errors],
            usage=TokenUsageView(**answered.usage.model_dump()) if answered.spends_tokens else None,
        )
    task = queue_texts_task(NewTexts(tenant, body.texts, options, correlation_id=request_id(request)), queueing)
    view = TaskView.of(task, settings)
    return JSONResponse(view.model_dump(mode="json"), status_code=202, headers={"Location": view.links.self})
