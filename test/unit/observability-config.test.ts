// The compose `observability` profile's files: the Grafana dashboard is valid JSON with the
// panels operators need, and every PromQL expression uses only metrics this code registers;
// prometheus.yml parses and passes `promtool check config`; the alert rules pass `promtool check rules`
// and their own unit tests (`promtool test rules`).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { createApiMetrics, createWorkerMetrics } from '../../src/infra/telemetry/metrics.js';
import { createDatabaseMetrics } from '../../src/infra/telemetry/database-metrics.js';
import { promtool } from '../support/promtool.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

interface Panel {
  title: string;
  targets: { expr: string }[];
}

/** Families the registries hold, with a histogram's series suffixes. */
function registeredNames(): Set<string> {
  const none = async () => ({});
  const api = createApiMetrics({ readBreakers: none, queueCounts: none, pendingDecisions: async () => 0 });
  const worker = createWorkerMetrics();
  // The pool's registry, served beside both (src/infra/db/database.ts).
  const database = createDatabaseMetrics({ maxClients: 1, pool: () => undefined });
  const names = new Set<string>();
  for (const metric of [
    ...api.registry.getMetricsAsArray(),
    ...worker.registry.getMetricsAsArray(),
    ...database.registry.getMetricsAsArray(),
  ]) {
    names.add(metric.name);
    for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'sum',
  'by',
  'without',
  'rate',
  'irate',
  'increase',
  'delta',
  'deriv',
  'max_over_time',
  'absent',
  'and',
  'or',
  'unless',
  'histogram_quantile',
  'max',
  'min',
  'avg',
  'count',
  'le',
  'on',
  'ignoring',
  'offset',
]);

/** Metric names in a PromQL expression: identifiers outside label matchers, strings, groupings and ranges. */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\boffset\s+-?[0-9smhdwy]+/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w));
}

describe('observability config (compose profile)', () => {
  const dashboard = JSON.parse(read('observability/grafana/dashboards/agentic-sdlc.json')) as { uid: string; panels: Panel[] };

  it('the dashboard has the pipeline, stage latency, queue depth, failures, decisions, dead-letter and breaker panels', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    expect(exprs).to.include('agentic_pipelines_started_total').and.include('agentic_pipelines_finished_total');
    for (const q of ['0.5', '0.95', '0.99'])
      expect(exprs).to.include(`histogram_quantile(${q}, sum by (le, agent) (rate(agentic_stage_duration_seconds_bucket`);
    expect(exprs).to.include('agentic_queue_jobs').and.include('agentic_stage_failures_total').and.include('agentic_decisions_pending');
    expect(exprs).to.include('agentic_queue_jobs{state="failed"').and.include('agentic_breaker_state{state="open"}');
  });

  it('no dashboard panel or alert sums across API replicas a gauge each of them reports alike', () => {
    // Read from Redis or Postgres on each scrape: two API replicas report the same value, so a sum
    // over them doubles it. Sum within one replica (by instance), then max.
    const perReplica = ['agentic_queue_jobs', 'agentic_decisions_pending', 'agentic_breaker_state', 'agentic_breaker_hold_seconds'];
    const rules = parse(read('observability/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr] as const)),
      ...rules.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.expr] as const)),
    ];
    for (const [where, expr] of exprs) {
      for (const name of perReplica) {
        const summed = new RegExp(`\\bsum\\s*(?:by\\s*\\(([^)]*)\\))?\\s*\\(\\s*(?:\\w+\\()?${name}\\b`, 'g');
        for (const match of expr.matchAll(summed)) {
          const by = (match[1] ?? '').split(',').map((label) => label.trim());
          expect(by, `${where}: ${match[0]}… sums ${name} over API replicas`).to.include('instance');
        }
      }
    }
  });

  it('every dashboard expression references only metrics the code registers', () => {
    const names = registeredNames();
    expect(metricNamesIn('sum by (le) (rate(foo_bucket{a="b c"}[5m]))')).to.deep.equal(['foo_bucket']);
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        const used = metricNamesIn(expr);
        expect(used.length, `${panel.title}: ${expr}`).to.be.above(0);
        for (const name of used) expect(names.has(name), `${panel.title}: ${name} is not registered`).to.equal(true);
      }
    }
  });

  it('prometheus.yml scrapes the API and the workers, loads the alert rules and passes promtool check config', async () => {
    const config = parse(read('observability/prometheus.yml')) as { scrape_configs: { job_name: string }[]; rule_files: string[] };
    expect(config.scrape_configs.map((c) => c.job_name)).to.deep.equal(['api', 'worker']);
    expect(config.rule_files).to.deep.equal(['alerts.yml']);
    const text = read('observability/prometheus.yml');
    expect(text).to.include('api:3000').and.include('port: 9464');
    // The API job sends METRICS_TOKEN from the file compose's entrypoint writes; promtool wants
    // that file to exist, so the check runs on a copy whose token file is a temporary one.
    const compose = read('docker-compose.yml');
    const tokenFile = /credentials_file: (\S+)/.exec(text)?.[1];
    expect(tokenFile, 'the api job has an authorization credentials_file').to.be.a('string');
    expect(compose).to.include(`> ${tokenFile} && exec /bin/prometheus`).and.include('METRICS_TOKEN: ${METRICS_TOKEN:-}');
    const dir = mkdtempSync(join(tmpdir(), 'prom-'));
    try {
      writeFileSync(join(dir, 'metrics-token'), 'x'.repeat(32));
      writeFileSync(join(dir, 'alerts.yml'), read('observability/alerts.yml'));
      writeFileSync(join(dir, 'prometheus.yml'), text.replace(tokenFile!, join(dir, 'metrics-token')));
      const result = await promtool(['check', 'config', join(dir, 'prometheus.yml')]);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the alert rules pass promtool check rules and their unit tests (promtool test rules), and use only registered metrics', async () => {
    const check = await promtool(['check', 'rules', 'observability/alerts.yml']);
    expect(check.code, check.stdout + check.stderr).to.equal(0);
    const unit = await promtool(['test', 'rules', 'observability/alerts.test.yml']);
    expect(unit.code, unit.stdout + unit.stderr).to.equal(0);
    expect(unit.stdout).to.include('SUCCESS');

    const rules = parse(read('observability/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const alerts = rules.groups.flatMap((g) => g.rules);
    const tested = read('observability/alerts.test.yml');
    const names = registeredNames();
    for (const { alert, expr } of alerts) {
      expect(tested, `${alert} has a unit test`).to.include(`alertname: ${alert}`);
      for (const name of metricNamesIn(expr))
        expect(name === 'up' || names.has(name), `${alert}: ${name} is not registered`).to.equal(true);
    }
    // The compose Prometheus gets the rules next to its config.
    expect(read('docker-compose.yml')).to.include('./observability/alerts.yml:/etc/prometheus/alerts.yml:ro');
  });

  it('compose defines the observability profile, the collector listens on 4318 and api and workers can be pointed at it', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { profiles?: string[]; environment?: Record<string, string> }>;
    };
    for (const name of ['prometheus', 'grafana', 'otel-collector'])
      expect(compose.services[name]?.profiles).to.deep.equal(['observability']);
    for (const name of ['api', 'worker'])
      expect(compose.services[name]?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).to.equal('${OTEL_EXPORTER_OTLP_ENDPOINT:-}');
    const collector = parse(read('observability/otel-collector.yaml')) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
    };
    expect(collector.receivers.otlp.protocols.http.endpoint).to.equal('0.0.0.0:4318');
  });
});
