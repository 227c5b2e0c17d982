"""The knowledge of the engine, as data: heading aliases, signal phrases,
category profiles and the wording of every question.

Phrase syntax (see checks.phrases): tokens separated by spaces, `a|b` for
alternatives, `#` for any number. Headings are compared after
`normalize_heading` (lowercase words, numbering and "(Optional)" dropped).
"""

from __future__ import annotations

from checks.report import Category, Requirement, Severity

# --- Headings -----------------------------------------------------------------
# A heading counts for a dimension when its normalised words contain one of these
# phrases as whole words. Longer phrases are tried first; EXCLUDED_HEADINGS stops
# e.g. "goals" matching inside "non goals".
HEADING_ALIASES: dict[str, tuple[str, ...]] = {
    "problem": (
        "problem", "problem statement", "problems", "the problem", "motivation", "background",
        "context", "context and problem statement", "why", "pain points", "current state",
        "status quo", "challenges", "introduction", "overview and motivation", "rationale for change",
        "user problem", "customer problem", "opportunity", "abstract", "summary",
    ),
    "users": (
        "users", "user stories", "user story", "personas", "persona", "target users",
        "audience", "target audience", "who is this for", "customers", "stakeholders",
        "scenarios", "use cases", "use case", "user experience", "scenarios and user experience",
        "customer scenarios", "who", "user scenarios", "target customers",
    ),
    "why_now": (
        "why now", "timing", "urgency", "deadline", "why this why now", "cost of delay",
        "why is this needed now", "why now and not later",
    ),
    "metrics": (
        "success metrics", "metrics", "success criteria", "measuring success", "kpis", "kpi",
        "goals and metrics", "definition of done", "acceptance criteria", "success measures",
        "measures of success", "key results", "slos", "slo", "graduation criteria",
        "how will we measure success", "exit criteria", "measurement", "success",
    ),
    "evidence": (
        "evidence", "data", "user research", "research", "customer feedback", "demand",
        "supporting data", "findings", "signals", "feedback", "market research",
        "incident data", "incidents",
    ),
    "alternatives": (
        "alternatives", "alternatives considered", "rationale and alternatives", "rationale",
        "alternative designs", "alternative approaches", "alternative", "other options",
        "options considered", "considered options", "considered alternatives",
        "design alternatives", "options", "alternative solutions", "rejected alternatives",
        "other approaches", "prior art",
    ),
    "non_goals": (
        "non goals", "non-goals", "nongoals", "out of scope", "not in scope", "out-of-scope",
        "scope", "future work", "future possibilities", "future directions", "deferred",
        "what this is not", "future", "later", "limitations", "not doing",
    ),
    "incremental": (
        "rollout", "rollout plan", "phases", "phasing", "milestones", "mvp", "implementation plan",
        "release plan", "roadmap", "staging", "implementation", "graduation criteria",
        "upgrade downgrade strategy", "feature enablement and rollback", "experiment",
        "experiments", "delivery plan", "iteration plan", "plan", "timeline", "migration plan",
        "rollout upgrade and rollback planning", "phased rollout", "pilot", "next steps",
        "timebox", "deployment",
    ),
    "risks": (
        "risks", "risks and mitigations", "risk", "drawbacks", "drawback", "downsides", "costs",
        "cost", "compatibility", "source compatibility", "abi compatibility",
        "effect on abi stability", "backwards compatibility", "backward compatibility",
        "migration", "security considerations", "trade offs", "tradeoffs", "trade-offs",
        "concerns", "impact on existing code", "operational impact", "performance impact",
        "consequences", "negative consequences", "effect on api resilience", "security",
        "breaking changes", "caveats",
    ),
}
# Headings that often hold the dimension but just as often hold something else
# (a Summary that only summarises the solution): they can show a dimension is
# present, never that it is weak.
SECONDARY_HEADING_ALIASES: dict[str, tuple[str, ...]] = {
    "problem": ("introduction", "summary", "abstract", "overview", "intro", "tldr"),
    "users": ("scenarios", "use cases", "use case", "user experience", "who", "customer scenarios",
              "user scenarios", "stakeholders"),
    "metrics": ("success", "measurement", "goals", "goal", "objectives", "requirements"),
    "evidence": ("research", "data", "findings", "signals", "feedback", "background",
                 "motivation", "prior art"),
    "alternatives": ("rationale", "options", "prior art", "design decisions", "discussion"),
    "non_goals": ("future", "later", "limitations", "future possibilities", "future directions",
                  "unresolved questions", "open questions"),
    "incremental": ("implementation", "plan", "timeline", "deployment", "next steps",
                    "graduation criteria", "migration plan", "roadmap", "upgrade downgrade strategy",
                    "implementation history", "version skew strategy", "transition"),
    "risks": ("migration", "security", "compatibility", "consequences", "performance",
              "unresolved questions", "open questions"),
    "why_now": ("motivation", "background", "summary", "introduction", "abstract"),
}
EXCLUDED_HEADINGS: dict[str, tuple[str, ...]] = {
    "metrics": ("non goals", "non-goals"),
    "problem": ("unresolved", "open questions"),
    "non_goals": ("future possibilities for",),
}

# --- Signal phrases -------------------------------------------------------------
# Strong phrases make a dimension present on their own (wherever they appear in
# prose); weak phrases only hint at it (status `weak` if nothing stronger).
STRONG_SIGNALS: dict[str, tuple[str, ...]] = {
    "problem": (
        "there is no way", "there's no way", "is not possible", "it is impossible",
        "it's impossible", "is currently impossible", "currently requires", "currently there is",
        "currently there are", "today there is", "today users", "users have to", "users must",
        "have to manually", "forced to", "is error-prone", "are error-prone", "is cumbersome",
        "is painful", "pain point", "the problem is", "the problem with", "this leads to",
        "this results in", "which leads to", "results in", "workaround", "workarounds",
        "is difficult to", "is hard to", "it is hard", "it is difficult", "hard to use",
        "currently", "at the moment", "the status quo", "the current approach",
        "the current situation", "the current design", "suffers from", "lack of",
        "lacks", "unable to", "cannot be", "can't be", "fails to", "not supported",
        "has no way", "no way to",
    ),
    "users": (
        "as a|an", "library|crate|package|framework|plugin|sdk authors|maintainers|developers",
        "app|application|mobile|web|game|embedded|backend|frontend|kernel developers",
        "cluster operators|administrators|admins", "platform teams|engineers|operators",
        "site reliability engineers", "sres", "on-call engineers", "data scientists|engineers|analysts",
        "enterprise customers|users", "small businesses", "first-time users", "new contributors",
        "end users", "power users", "operators", "administrators", "maintainers",
        "tool|ide|editor authors|vendors", "cloud providers", "service owners", "persona",
        "personas", "user story", "user stories", "our customers", "merchants", "admins",
        "beginners", "newcomers", "contributors", "reviewers", "distributors",
        "package managers", "driver authors|vendors", "vendors", "integrators",
        "people who", "developers who", "users who", "teams that", "customers who",
        "programmers who", "anyone who",
    ),
    "why_now": (
        "why now", "now that", "deadline", "end of life", "end-of-life", "eol",
        "no longer supported", "will be removed", "is being removed", "is deprecated",
        "increasingly", "more and more", "growing number", "rapidly growing", "cost of delay",
        "if we do nothing", "without this", "blocks", "blocking", "blocker", "unblock",
        "unblocks", "prerequisite", "in time for", "urgent", "urgently", "before the release",
        "recently", "has become", "have become", "is becoming", "are becoming", "trend",
        "every release", "each release", "the longer we wait", "sooner", "time-sensitive",
        "by the end of", "due to the upcoming",
    ),
    "metrics": (
        "success metric", "success metrics", "success criteria", "we will measure",
        "we'll measure", "measured by", "slo", "slos", "sli", "slis", "p99", "p95", "p90",
        "p50", "target of", "error budget", "baseline", "kpi", "kpis", "exit criteria",
        "success looks like", "we will know",
    ),
    "evidence": (
        "survey", "surveyed", "interviews", "interviewed", "user research", "user study",
        "user studies", "telemetry", "analytics", "we measured", "measured", "measurements",
        "benchmark", "benchmarks", "benchmarked", "incident", "incidents", "outage",
        "outages", "postmortem", "post-mortem", "support tickets", "bug reports",
        "data shows", "data show", "according to", "study", "studies",
        "# issues|users|customers|requests|reports|tickets|crates|packages|repositories|repos",
        "# projects|companies|downloads|votes|upvotes|comments|teams|incidents|outages",
        "# of|percent", "feedback from", "reported by", "requested by", "duplicate issues",
        "stack overflow", "github issues", "issue tracker", "mailing list", "user feedback",
        "customer feedback", "experience reports", "in the wild", "real-world",
        "real world", "crater run", "crater",
    ),
    "alternatives": (
        "alternatives", "alternative", "alternatively", "we considered", "was considered",
        "were considered", "another approach", "another option", "other approaches",
        "other options", "one option", "rejected", "instead of", "we could instead",
        "could instead", "do nothing", "doing nothing", "not doing this", "status quo",
        "a different approach", "considered and rejected", "compared to",
    ),
    "non_goals": (
        "non-goal", "non-goals", "nongoals", "non goals", "out of scope", "out-of-scope",
        "not a goal", "not in scope", "outside the scope", "outside of the scope",
        "beyond the scope", "future work", "left for future", "left to future",
        "left for a future", "for a future", "future rfc", "future proposal", "future kep",
        "separate proposal", "separate rfc", "follow-up", "follow up work", "deferred",
        "we defer", "defer", "will not address", "does not attempt", "does not address",
        "doesn't attempt", "not covered", "explicitly not", "we do not propose",
        "this proposal does not", "this rfc does not", "this kep does not", "not proposing",
        "is not addressed", "not intended to",
    ),
    "incremental": (
        "phase 1|one|i", "first phase", "phase #", "mvp", "minimum viable", "milestone",
        "milestones", "alpha", "beta", "feature gate", "feature flag", "feature-gated",
        "behind a flag", "behind a feature", "opt-in", "experimental", "nightly", "unstable",
        "preview", "pilot", "staged", "gradual", "gradually", "incrementally", "incremental",
        "first step", "initial version", "initial implementation", "iteration", "rollout",
        "roll out", "canary", "experiment", "a/b", "prototype", "proof of concept",
        "timebox", "time-box", "timeboxed", "first version", "v1", "start with", "starting with",
        "to begin with", "later phases", "stabilize", "stabilization", "graduate", "ga",
    ),
    "risks": (
        "drawback", "drawbacks", "downside", "downsides", "risk", "risks", "breaking change",
        "breaking changes", "backwards incompatible", "backward incompatible",
        "source-breaking", "source breaking", "abi-breaking", "migration", "maintenance burden",
        "maintenance cost", "overhead", "trade-off", "trade-offs", "tradeoff", "tradeoffs",
        "mitigation", "mitigations", "mitigate", "regression", "regressions", "complexity",
        "on-call", "operational cost", "cost of", "costs", "security implications",
        "compatibility", "incompatible", "performance impact", "disadvantage",
        "disadvantages", "caveat", "caveats", "concern", "concerns", "failure mode",
    ),
}
WEAK_SIGNALS: dict[str, tuple[str, ...]] = {
    "problem": ("problem", "issue", "issues", "limitation", "confusing", "tedious", "verbose",
                "boilerplate", "inconsistent", "surprising", "slow", "expensive"),
    "users": ("users", "developers", "customers", "people", "programmers", "teams"),
    "why_now": ("soon", "upcoming", "today", "now", "long-standing", "long standing", "release"),
    "metrics": ("improve", "improves", "faster", "better", "reduce", "increase", "goal", "goals"),
    "evidence": ("requested", "reported", "feedback", "complaints", "often", "frequently",
                 "commonly", "popular", "widely", "many users", "many people", "demand"),
    "alternatives": ("instead", "could", "option"),
    "non_goals": ("future", "later", "separately"),
    "incremental": ("first", "initially", "later", "follow-up", "stable"),
    "risks": ("cost", "break", "breaks", "concern", "however"),
}

# Words that, in an aliased section, show the kind of substance a dimension needs.
PROBLEM_MARKERS = STRONG_SIGNALS["problem"] + WEAK_SIGNALS["problem"] + (
    "cannot", "can't", "can not", "unable", "impossible", "difficult", "hard", "painful",
    "error-prone", "lack", "missing", "have to", "has to", "need to", "needs to", "requires",
    "bug", "bugs", "broken", "fails", "failure", "failures", "wrong", "unsafe", "footgun",
    "pitfall", "today", "existing", "current", "currently", "without", "only way",
)
SOLUTION_MARKERS: tuple[str, ...] = (
    "this rfc proposes", "this proposal", "we propose", "this kep proposes", "we will build",
    "we need to build", "we should build", "we want to build", "we will add", "we need to add",
    "we will implement", "we need to implement", "we will create", "we need to create",
    "add a", "add an", "adds", "introduce", "introduces", "implement a", "build a", "create a",
    "the solution is", "this change", "this feature", "we plan to",
)
REASONING_MARKERS: tuple[str, ...] = (
    "because", "but", "however", "downside", "drawback", "would require", "not chosen",
    "rejected", "doesn't", "does not", "too", "instead", "since", "unfortunately", "worse",
    "better", "prefer", "preferred", "advantage", "disadvantage", "cost", "costs", "pros",
    "cons", "trade-off", "tradeoff", "although", "while", "problem", "issue", "complex",
    "complexity", "would", "unlike", "not", "why",
)
STAGE_MARKERS = STRONG_SIGNALS["incremental"]
METRIC_COMPARATORS: frozenset[str] = frozenset(
    """less fewer more under below above within least most reduce reduced reduces reducing
    increase increased increases increasing decrease decreases target targets goal than
    percent ms seconds second minutes minute hours hour days latency throughput rate slo
    sli p99 p95 p90 p50 faster slower x times budget uptime availability conversion
    retention adoption errors error accuracy""".split()
)

# Phrases that mean a section is hollow: "None.", "TBD", "N/A".
HOLLOW_TEXTS: frozenset[str] = frozenset(
    {
        "none", "n/a", "na", "tbd", "tbc", "todo", "nothing", "not applicable", "none yet",
        "none at this time", "none identified", "none known", "no alternatives",
        "none considered", "to be determined", "to be decided", "coming soon", "nothing yet",
        "-", "--", "no", "no drawbacks", "none that we know of", "none so far", "not yet",
        "no alternatives considered", "no alternatives were considered", "n a", "no risks",
        "none that i know of", "not sure", "unknown", "same as above",
    }
)

# --- Line-level checks ----------------------------------------------------------
ABSOLUTE_PHRASES: tuple[str, ...] = (
    "real-time", "realtime", "real time", "100%", "100 percent", "zero downtime",
    "zero latency", "zero errors", "zero data loss", "zero bugs", "zero defects",
    "zero fraud", "zero incidents", "zero friction", "no downtime", "instantly",
    "instant", "always available", "never fail|fails|lose|loses|break|breaks|goes down",
    "all providers|platforms|browsers|devices|regions|customers|users|clients|languages|formats",
    "all integrations|markets|countries|channels|payment methods|identity providers|sso providers",
    "every user|customer|platform|browser|device|region|provider|request|transaction|market",
    "complete elimination", "completely eliminate|eliminates|eliminated", "eliminate all",
    "fully automated|automatic", "any scale", "unlimited", "infinite scale", "infinitely",
    "all edge cases", "every edge case", "perfect", "guaranteed delivery", "no latency",
)
REQUIREMENT_WORDS: frozenset[str] = frozenset(
    """must shall should will need needs required requires requirement requirements goal
    goals ensure ensures guarantee guarantees support supports supported provide provides
    deliver delivers achieve achieves want aim target expect expected""".split()
)
NEGATION_WORDS: frozenset[str] = frozenset(
    """not no non-goal non-goals nongoal don't doesn't won't isn't aren't never without
    neither nor unnecessary optional""".split()
)
GOAL_VERBS: tuple[str, ...] = (
    "improve", "improves", "improving", "improved", "reduce", "reduces", "reducing", "increase",
    "increases", "increasing", "faster", "better", "more", "lower", "higher", "speed up",
    "decrease", "decreases", "minimize", "minimise", "maximize", "maximise", "boost", "enhance",
    "optimize", "optimise", "cut", "grow",
)
GOAL_CONTEXT: tuple[str, ...] = (
    "goal", "goals", "aim", "aims", "objective", "objectives", "we want to", "we aim to",
    "we hope to", "we expect to", "success", "intended to", "in order to", "the purpose",
    "we plan to", "this will", "should", "will", "expected to",
)
GOAL_HEADINGS: tuple[str, ...] = (
    "goals", "goal", "objectives", "objective", "success metrics", "success criteria",
    "metrics", "expected outcomes", "outcomes", "key results", "impact", "benefits",
)
DEMAND_PHRASES: tuple[str, ...] = (
    "users|customers|people|developers|everyone want|wants|need|needs|love|expect",
    "users|customers|people|developers are|keep asking|requesting",
    "users|customers|people|developers have been asking|requesting",
    "users|customers|developers have asked|requested", "i think users|customers|people",
    "we think users|customers|people", "i believe users|customers", "we believe users|customers",
    "users|customers would love|like|prefer", "everyone wants", "everybody wants",
    "frequently requested", "commonly requested", "highly requested", "heavily requested",
    "often requested", "most requested", "popular request", "often asked", "there is demand",
    "high demand", "strong demand", "huge demand", "lots of people", "a lot of people",
    "a lot of users", "many users want|need|ask|have asked|are asking",
    "customers keep asking", "users keep asking",
)
TECH_CHANGE_PHRASES: tuple[str, ...] = (
    "rewrite", "rewriting", "rewrite it", "re-write", "re-architect", "rearchitect", "rebuild",
    "rebuilding", "migrate to", "migrating to", "migration to", "port to", "porting to",
    "switch to", "switching to", "move to", "moving to", "adopt", "adopting", "replace",
    "replacing", "introduce", "introducing", "convert to",
)
TECH_REASON_PHRASES: tuple[str, ...] = (
    "modern", "modernize", "modernise", "more modern", "new technology", "latest", "cutting-edge",
    "cutting edge", "state-of-the-art", "state of the art", "trendy", "hype", "industry standard",
    "everyone is using", "everybody uses", "everyone uses", "future-proof", "future proof",
    "cool", "shiny", "best practice", "best practices", "the way forward", "the future",
    "outdated", "legacy", "old-fashioned", "more elegant", "cleaner", "nicer",
)
PROBLEM_OUTCOME_WORDS: frozenset[str] = frozenset(
    """incident incidents outage outages cost costs latency bug bugs error errors slow crash
    crashes fail fails failure failures users customers revenue churn conversion security
    vulnerability vulnerabilities because reduce reduces increase increases so that""".split()
)
PLACEHOLDER_TOKENS: frozenset[str] = frozenset({"TBD", "TODO", "TBC", "FIXME", "XXX", "TKTK"})
PLACEHOLDER_PHRASES: tuple[str, ...] = ("lorem ipsum", "insert here", "fill in", "fill this in")

# --- Categories -------------------------------------------------------------------
CATEGORY_SIGNALS: dict[Category, tuple[str, ...]] = {
    Category.COMPLIANCE: (
        "compliance", "compliant", "regulation", "regulations", "regulatory", "auditor",
        "auditors", "audit", "soc 2", "soc2", "sox", "hipaa", "gdpr", "ccpa", "pci", "pci-dss",
        "pci dss", "iso 27001", "fedramp", "legal requirement", "data residency", "control",
        "controls", "regulator", "regulators", "attestation", "certification",
    ),
    Category.RESEARCH: (
        "spike", "research spike", "exploration", "exploratory", "hypothesis", "hypotheses",
        "investigate", "investigation", "proof of concept", "poc", "timebox", "timeboxed",
        "time-box", "learning", "learnings", "we want to learn", "feasibility",
    ),
    Category.STABILIZATION: (
        "incident", "incidents", "outage", "outages", "flaky", "flakiness", "reliability",
        "stabilize", "stabilise", "stabilization", "stabilisation", "error budget", "pages",
        "paged", "on-call", "postmortem", "post-mortem", "sev1", "sev-1", "sev2", "tech debt",
        "technical debt", "crash", "crashes", "crash rate", "mttr",
    ),
    Category.PLATFORM: (
        "api", "apis", "sdk", "library", "libraries", "compiler", "language", "runtime",
        "cluster", "clusters", "kubernetes", "infrastructure", "internal teams", "toolchain",
        "crate", "crates", "package manager", "kubelet", "controller", "syntax", "type system",
        "standard library", "stdlib", "framework", "cli", "build system", "platform team",
        "developer experience", "ci", "pipeline", "service mesh", "kernel", "abi", "generics",
        "macro", "macros", "module", "modules", "protocol", "operators", "feature gate",
    ),
    Category.PRODUCT: (
        "customer", "customers", "conversion", "retention", "churn", "revenue", "onboarding",
        "checkout", "signup", "sign-up", "engagement", "pricing", "subscription", "ux",
        "mobile app", "dashboard", "persona", "personas", "market", "end users", "shoppers",
        "merchants", "buyers", "sellers", "funnel", "activation", "user research",
    ),
}
# How many hits (per 1,000 words) a category needs before it beats `product`.
CATEGORY_MIN_DENSITY: dict[Category, float] = {
    Category.COMPLIANCE: 4.0,
    Category.RESEARCH: 4.0,
    Category.STABILIZATION: 4.0,
    Category.PLATFORM: 6.0,
    Category.PRODUCT: 0.0,
}

# --- Template families ("kind") ------------------------------------------------------
KIND_HEADINGS: dict[str, tuple[str, ...]] = {
    "kep": ("release signoff checklist", "production readiness review questionnaire",
            "graduation criteria", "design details", "implementation history"),
    "rfc": ("guide level explanation", "reference level explanation", "unresolved questions",
            "rationale and alternatives", "drawbacks", "future possibilities"),
    "go-proposal": ("abstract", "background", "rationale", "compatibility", "open issues"),
    "swift-evolution": ("proposed solution", "detailed design", "source compatibility",
                        "alternatives considered", "introduction"),
    "adr": ("context", "decision", "consequences", "status", "decision outcome",
            "considered options", "decision drivers"),
    "prd": ("success metrics", "personas", "requirements", "user stories", "problem statement",
            "target users", "release criteria"),
    "dotnet-design": ("scenarios and user experience", "requirements", "non goals", "goals",
                      "stakeholders and reviewers", "q and a", "design"),
}

# --- Category profiles: which dimensions matter and how to ask -----------------------------
R, O, X = Requirement.REQUIRED, Requirement.OPTIONAL, Requirement.OFF
W, S = Severity.WARNING, Severity.SUGGESTION

REQUIREMENTS: dict[Category, dict[str, Requirement]] = {
    Category.PRODUCT: dict.fromkeys(
        ("problem", "users", "why_now", "metrics", "evidence", "alternatives", "non_goals",
         "incremental", "risks"), R),
    Category.PLATFORM: {
        "problem": R, "users": R, "why_now": O, "metrics": R, "evidence": O,
        "alternatives": R, "non_goals": R, "incremental": R, "risks": R,
    },
    Category.COMPLIANCE: {
        "problem": R, "users": O, "why_now": R, "metrics": R, "evidence": O,
        "alternatives": O, "non_goals": R, "incremental": X, "risks": R,
    },
    Category.RESEARCH: {
        "problem": R, "users": O, "why_now": O, "metrics": R, "evidence": O,
        "alternatives": O, "non_goals": R, "incremental": R, "risks": O,
    },
    Category.STABILIZATION: {
        "problem": R, "users": O, "why_now": X, "metrics": R, "evidence": R,
        "alternatives": R, "non_goals": O, "incremental": O, "risks": R,
    },
}
# Severity of a `missing` required dimension (a `weak` one is one step lower).
GAP_SEVERITY: dict[str, Severity] = {
    "problem": W, "users": W, "why_now": W, "metrics": W, "evidence": W,
    "alternatives": W, "non_goals": W, "incremental": W, "risks": W,
}
# The order in which gaps are worth raising, most important first.
DIMENSION_PRIORITY: dict[Category, tuple[str, ...]] = {
    Category.PRODUCT: ("problem", "users", "metrics", "evidence", "why_now", "incremental",
                       "alternatives", "non_goals", "risks"),
    Category.PLATFORM: ("problem", "users", "metrics", "alternatives", "incremental", "risks",
                        "non_goals", "why_now", "evidence"),
    Category.COMPLIANCE: ("problem", "why_now", "metrics", "risks", "non_goals", "users",
                          "evidence", "alternatives", "incremental"),
    Category.RESEARCH: ("problem", "metrics", "incremental", "non_goals", "users", "why_now",
                        "evidence", "alternatives", "risks"),
    Category.STABILIZATION: ("evidence", "problem", "metrics", "risks", "alternatives",
                             "incremental", "non_goals", "users", "why_now"),
}

DIMENSION_TITLES: dict[str, str] = {
    "problem": "Problem", "users": "Users", "why_now": "Why now", "metrics": "Success metrics",
    "evidence": "Evidence", "alternatives": "Alternatives", "non_goals": "Non-goals",
    "incremental": "Smallest first step", "risks": "Risks and costs",
}

# Questions: the product wording, overridden per category where the work differs.
QUESTIONS: dict[str, str] = {
    "problem": "What problem do people have today, described apart from the solution?",
    "users": "Who exactly has this problem, and what are they trying to do when they hit it?",
    "why_now": "Why now? What changes, or what does it cost, if this waits a quarter?",
    "metrics": "How will we know it worked? Which number moves, from what baseline to what target?",
    "evidence": "What shows the problem is real: data, incidents, research, or a count of requests?",
    "alternatives": "What else was considered (including doing nothing), and why not those?",
    "non_goals": "What is deliberately left out of this, so scope doesn't creep?",
    "incremental": "What is the smallest version that would test the bet before building all of it?",
    "risks": "What could go wrong, and what does it cost to build, run and maintain?",
}
CATEGORY_QUESTIONS: dict[Category, dict[str, str]] = {
    Category.PLATFORM: {
        "users": "Which engineers will use this (which teams, which integrations), and what do "
                 "they do today instead?",
        "metrics": "How will we know it worked for the teams that depend on it: an SLO, an "
                   "adoption target, time to integrate?",
        "incremental": "Which one or two teams could adopt a first version, and what would they "
                       "need on day one?",
        "risks": "What does this add to on-call and maintenance, and what breaks for existing "
                 "callers (compatibility, migration)?",
        "evidence": "What shows teams need this: support requests, workarounds in the wild, "
                    "incident or usage data?",
    },
    Category.COMPLIANCE: {
        "problem": "Which rule, control or clause does this satisfy, and what is out of line today?",
        "why_now": "What is the deadline (audit date, effective date), and what happens if we miss it?",
        "metrics": "What evidence will the auditor need to see, and how will we produce it?",
        "non_goals": "Which parts of the system are outside the scope of the control?",
        "risks": "What is the exposure if the control fails or the evidence is incomplete?",
    },
    Category.RESEARCH: {
        "problem": "Which question is this spike meant to answer?",
        "metrics": "What is the hypothesis, and what result would confirm or kill it (exit "
                   "criteria)?",
        "incremental": "What is the timebox, and what gets decided when it ends?",
        "non_goals": "What will this spike deliberately not produce (e.g. production code)?",
    },
    Category.STABILIZATION: {
        "evidence": "What do the incident data show: how often, how bad, how many users hit?",
        "metrics": "Which error budget or SLO tells us this is fixed?",
        "risks": "What breaks, and how badly, if this waits, and what could the fix itself break?",
        "alternatives": "Is there a cheaper mitigation that would buy time, and why isn't it enough?",
    },
}
WHY: dict[str, str] = {
    "problem": "Without a stated problem, nobody can tell whether the solution is the right one.",
    "users": "Knowing who is affected decides what matters in the design.",
    "why_now": "Timing decides priority against everything else the team could do.",
    "metrics": "Without a measure, nobody can tell later whether this worked.",
    "evidence": "Evidence separates a real problem from a favourite feature.",
    "alternatives": "Alternatives show the chosen design was picked, not just the first idea.",
    "non_goals": "Saying what is out keeps scope from creeping during the build.",
    "incremental": "A small first version tests the bet before the full cost is paid.",
    "risks": "Costs paid later (maintenance, migration, on-call) are part of the decision.",
}

CHECK_MESSAGES: dict[str, str] = {
    "solution-first": "The problem statement describes a solution, not an outcome.",
    "absolute-requirement": "Absolute wording used as a requirement: \"{excerpt}\".",
    "unquantified-goal": "A goal with no number or target: \"{excerpt}\".",
    "unsupported-demand": "Demand asserted with no data nearby: \"{excerpt}\".",
    "technology-first": "The change is justified by the technology itself: \"{excerpt}\".",
    "placeholder": "Placeholder left in the document: \"{excerpt}\".",
}
CHECK_SEVERITY: dict[str, Severity] = {
    "solution-first": S,
    "absolute-requirement": S,
    "unquantified-goal": S,
    "unsupported-demand": S,
    "technology-first": S,
    "placeholder": W,
}
CHECK_WHY: dict[str, str] = {
    "solution-first": "A solution stated as the problem hides the outcome it is meant to reach.",
    "absolute-requirement": "Maximal targets often cost several times more than 'good enough'.",
    "unquantified-goal": "A goal without a number can't be checked after launch.",
    "unsupported-demand": "Assumed demand is the favourite-feature trap.",
    "technology-first": "A technology is a means; the reason has to be a user or business outcome.",
    "placeholder": "Reviewers can't review what isn't written yet.",
}
CHECK_QUESTIONS: dict[str, str] = {
    "solution-first": "What outcome should this achieve for whom, and how would we know?",
    "absolute-requirement": "What target would be enough? Would a softer bound give most of the "
                            "value at a fraction of the cost?",
    "unquantified-goal": "By how much, from what baseline, and by when?",
    "unsupported-demand": "What shows this demand: how many requests, from whom, and how does "
                          "it compare with other problems?",
    "technology-first": "Which user or business problem does this change solve, and what would "
                        "a smaller fix to the current system achieve?",
    "placeholder": "What goes here? If it isn't decided yet, what would decide it, and by when?",
}
CATEGORY_CHECK_QUESTIONS: dict[Category, dict[str, str]] = {
    Category.PLATFORM: {
        "absolute-requirement": "What SLO would be enough for the teams that depend on this?",
        "unsupported-demand": "Which teams asked for this, and what are they doing instead today?",
    },
    Category.COMPLIANCE: {
        "absolute-requirement": "Does the rule require this absolute, or a specific threshold? "
                                "Which clause says so?",
        "unquantified-goal": "Which control does this satisfy, and what evidence shows it is met?",
    },
    Category.RESEARCH: {
        "absolute-requirement": "Does the spike need to prove this absolute, or would a smaller "
                                "result be enough to decide?",
        "unquantified-goal": "What result would confirm or reject the hypothesis?",
    },
    Category.STABILIZATION: {
        "absolute-requirement": "What error budget is acceptable instead of an absolute?",
        "unquantified-goal": "Which error rate or incident count should drop, and to what?",
    },
}
