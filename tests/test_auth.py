"""Who is talking and what they may touch (issue 36), without a server: tokens, policy, the run's person."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from hef_graph import Context, build_graph
from hef_graph.auth import config, policy
from hef_graph.auth.identity import person_of_run, served_person
from hef_graph.auth.tokens import Identity, SignedTokens, TokenRefused, bearer_token
from hef_graph.errors import IdentityMismatch
from hef_graph.memory import user_namespace
from tests.conftest import ScriptedSEM, ScriptedTagger, fake_llm

SECRET = "a-test-secret-that-is-long-enough-0123456789"
ALICE, BOB, SAM = Identity("alice"), Identity("bob"), Identity("sam", "reviewer")


# Tokens


def test_a_signed_token_names_its_person_and_role():
    tokens = SignedTokens(SECRET)
    assert tokens.verify(tokens.issue("alice")) == ALICE
    assert tokens.verify(tokens.issue("sam", "reviewer")) == SAM


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (SignedTokens(SECRET).issue("alice", now=datetime.now(timezone.utc) - timedelta(days=2)), "expired"),
        (SignedTokens("another-secret-that-is-long-enough-0123456789").issue("alice"), "signature does not match"),
        ("not.a.token", "not valid"),
        ("", "not valid"),
    ],
)
def test_a_bad_token_is_refused_with_its_reason(token, reason):
    with pytest.raises(TokenRefused, match=reason):
        SignedTokens(SECRET).verify(token)


def test_a_token_of_another_issuer_or_without_expiry_is_refused():
    import jwt

    foreign = jwt.encode({"sub": "alice", "iss": "elsewhere", "exp": 4102444800}, SECRET, algorithm="HS256")
    endless = jwt.encode({"sub": "alice", "iss": "hef-graph"}, SECRET, algorithm="HS256")
    for token in (foreign, endless):
        with pytest.raises(TokenRefused):
            SignedTokens(SECRET).verify(token)


def test_short_secrets_and_bad_token_requests_are_refused():
    with pytest.raises(ValueError, match="at least 32"):
        SignedTokens("short")
    with pytest.raises(ValueError, match="role"):
        SignedTokens(SECRET).issue("alice", "admin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        SignedTokens(SECRET).issue("alice", days=0)


@pytest.mark.parametrize(
    ("header", "reason"), [(None, "no token"), ("", "no token"), ("Basic abc", "Bearer"), ("Bearer ", "Bearer")]
)
def test_the_authorization_header_must_carry_a_bearer_token(header, reason):
    with pytest.raises(TokenRefused, match=reason):
        bearer_token(header)
    assert bearer_token("Bearer abc.def") == "abc.def"


# Policy


def test_a_new_thread_belongs_to_its_creator_whatever_owner_the_client_wrote():
    value = {"metadata": {"owner": "alice", "topic": "x"}}
    assert policy.claim(BOB, value) == {"owner": "bob"}
    assert value["metadata"] == {"owner": "bob", "topic": "x"}
    assert policy.claim(BOB, {})["owner"] == "bob"


def test_a_run_naming_another_person_is_refused():
    for kwargs in ({"context": {"user_id": "alice"}}, {"config": {"configurable": {"user_id": "alice"}}}):
        with pytest.raises(policy.Refused, match="'alice' is not you"):
            policy.check_run(BOB, {"kwargs": kwargs})
    policy.check_run(BOB, {"kwargs": {"context": {"user_id": "bob"}}})
    policy.check_run(BOB, {"kwargs": {"input": {"messages": []}}})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input": {"messages": [{"role": "user", "content": "hi"}]}},
        {"command": {"resume": {"action": "send"}}, "input": {"messages": []}},
        {"command": {"resume": {"action": "send"}, "goto": "draft_response"}},
        {"command": {"update": {"reply": "x"}}},
    ],
)
def test_a_reviewer_may_only_resume(kwargs):
    with pytest.raises(policy.Refused, match="resume a paused hand-off"):
        policy.check_run(SAM, {"kwargs": kwargs})


def test_a_reviewers_resume_is_signed_with_their_own_id():
    value = {"kwargs": {"command": {"resume": {"action": "edit", "reply": "Hi", "reviewer": "alice"}}}}
    policy.check_run(SAM, value)
    policy.sign_resume(SAM, value)
    assert value["kwargs"]["command"]["resume"] == {"action": "edit", "reply": "Hi", "reviewer": "sam"}
    assert value["metadata"] == {"resumed_by": "sam"}
    plain = {"kwargs": {"command": {"resume": "send"}}}
    policy.sign_resume(SAM, plain)
    assert plain["kwargs"]["command"]["resume"] == {"action": "send", "reviewer": "sam"}


def test_reviewers_list_paused_threads_only_and_create_nothing():
    policy.check_reviewer_search(SAM, {"status": "interrupted"})
    with pytest.raises(policy.Refused, match="status='interrupted'"):
        policy.check_reviewer_search(SAM, {"status": None})
    policy.check_reviewer_search(BOB, {"status": None})
    with pytest.raises(policy.Refused, match="reviewer may not"):
        policy.claim(SAM, {})


def test_the_store_reaches_the_callers_own_namespace_only():
    own = user_namespace("bob")
    assert policy.store_namespace(BOB, "get", own) == own
    assert policy.store_namespace(BOB, "put", (*own, "more")) == (*own, "more")
    assert policy.store_namespace(BOB, "search", ("hef_memory",)) == own  # narrowed, not refused
    assert policy.store_namespace(BOB, "list_namespaces", None) == own
    for action, namespace in [("get", user_namespace("alice")), ("search", user_namespace("alice")),
                              ("put", ("hef_memory",)), ("delete", ("other", "bob"))]:  # fmt: skip
        with pytest.raises(policy.Refused, match="not yours"):
            policy.store_namespace(BOB, action, namespace)
    with pytest.raises(policy.Refused, match="reviewer may not"):
        policy.store_namespace(SAM, "search", user_namespace("sam"))


def test_an_id_that_looks_like_a_namespace_prefix_reaches_nothing_else():
    sneaky = Identity("alice.x")
    with pytest.raises(policy.Refused):
        policy.store_namespace(sneaky, "get", user_namespace("alice"))


# The run's person


def served(user: str, *, reviewer: bool = False, owner: str | None = None) -> dict:
    configurable = {
        "langgraph_auth_user_id": user,
        "langgraph_auth_permissions": ["reviewer" if reviewer else "person"],
    }
    return {"configurable": configurable, "metadata": {"owner": owner} if owner else {}}


def test_a_served_run_acts_for_its_authenticated_person():
    assert served_person({"configurable": {}}) is None
    assert person_of_run("alice", {"configurable": {}}) == "alice"  # in process: the app says who
    assert person_of_run(None, served("bob")) == "bob"
    assert person_of_run("bob", served("bob")) == "bob"
    assert person_of_run(None, served("sam", reviewer=True, owner="alice")) == "alice"
    with pytest.raises(IdentityMismatch, match="'alice'"):
        person_of_run("alice", served("bob"))


def graph_with_memory(store):
    llm = fake_llm("sad", "I'm so sorry.")
    return build_graph(InMemorySaver(), llm, ScriptedSEM(), cause_tagger=ScriptedTagger(), store=store,
                       memory_encoder=None)  # fmt: skip


def test_the_graph_remembers_under_the_authenticated_person_and_refuses_a_named_other(fake_encoder_store):
    store = fake_encoder_store
    hef = graph_with_memory(store)
    thread = {"configurable": {"thread_id": uuid.uuid4().hex, **served("bob")["configurable"]}}
    out = hef.invoke({"messages": [("user", "My dog Biscuit died this morning.")]}, thread, context=Context())
    assert out["remembered"] and [item.key for item in store.search(user_namespace("bob"))]
    assert not store.search(user_namespace("alice"))
    other = {"configurable": {"thread_id": uuid.uuid4().hex, **served("bob")["configurable"]}}
    with pytest.raises(IdentityMismatch):
        hef.invoke({"messages": [("user", "Tell me about Alice.")]}, other, context=Context(user_id="alice"))
    assert hef.get_state(other).values.get("messages", []) == []  # nothing of the refused run was kept


@pytest.fixture
def fake_encoder_store():
    class Letters:
        def embed(self, texts):
            return [[text.count(c) / max(len(text), 1) for c in "abcdefghijklmnopqrstuvwxyz"] for text in texts]

    from langgraph.store.base import IndexConfig

    encoder = Letters()
    return InMemoryStore(index=IndexConfig(dims=26, embed=encoder.embed, fields=["cause"]))


# The deployment's settings


def test_memory_is_never_served_without_authentication(monkeypatch):
    for name in ("HEF_AUTH", "HEF_AUTH_SECRET", "HEF_AUTH_VERIFIER"):
        monkeypatch.delenv(name, raising=False)
    config.check_memory_serving(False)
    with pytest.raises(config.AuthSetupError, match="HEF_AUTH_SECRET"):
        config.check_memory_serving(True)
    with pytest.raises(config.AuthSetupError, match="HEF_AUTH_SECRET"):
        config.verifier_from_env()
    monkeypatch.setenv("HEF_AUTH", "off")
    assert config.verifier_from_env() is None
    with pytest.raises(config.AuthSetupError, match="unset HEF_AUTH=off"):
        config.check_memory_serving(True)
    monkeypatch.delenv("HEF_AUTH")
    monkeypatch.setenv("HEF_AUTH_SECRET", SECRET)
    config.check_memory_serving(True)
    assert isinstance(config.verifier_from_env(), SignedTokens)


class EveryoneIsCarol:
    def verify(self, token: str) -> Identity:
        return Identity("carol")


def test_a_deployment_plugs_in_its_own_verifier(monkeypatch):
    monkeypatch.setenv("HEF_AUTH_VERIFIER", "tests.test_auth:EveryoneIsCarol")
    assert config.verifier_from_env().verify("anything") == Identity("carol")
    monkeypatch.setenv("HEF_AUTH_VERIFIER", "tests.test_auth")
    with pytest.raises(config.AuthSetupError, match="package.module:name"):
        config.verifier_from_env()
    monkeypatch.setenv("HEF_AUTH_VERIFIER", "tests.test_auth:SECRET")
    with pytest.raises(config.AuthSetupError, match="no verify"):
        config.verifier_from_env()
