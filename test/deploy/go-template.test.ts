import { describe, expect, it } from 'vitest';
import { ChartRenderer, TemplateError, TemplateFailure } from './go-template.js';

function render(template: string, values: Record<string, unknown> = {}, helpers = ''): string {
  const renderer = new ChartRenderer(
    new Map([
      ['_helpers.tpl', helpers],
      ['t.yaml', template],
    ]),
    'chart/templates',
  );
  return renderer.render('t.yaml', { Values: values, Release: { Name: 'r' } });
}

describe('the chart template renderer', () => {
  it('trims whitespace on the marked side only and drops comments', () => {
    expect(render('a  {{- "b" -}}  c')).toBe('abc');
    expect(render('a  {{ "b" }}  c')).toBe('a  b  c');
    expect(render('a\n{{- /* note */}}\nb')).toBe('a\nb');
  });

  it('picks the first true branch of if / else if / else', () => {
    const template = '{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}';
    expect(render(template, { a: 1, b: 1 })).toBe('A');
    expect(render(template, { a: 0, b: 'x' })).toBe('B');
    expect(render(template, { a: [], b: {} })).toBe('C');
  });

  it('rebinds the dot in with and range, maps in key order', () => {
    expect(render('{{ with .Values.m }}{{ .x }}{{ else }}none{{ end }}', { m: { x: 'y' } })).toBe('y');
    expect(render('{{ with .Values.m }}{{ .x }}{{ else }}none{{ end }}', { m: {} })).toBe('none');
    expect(render('{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } })).toBe(
      'a=1;b=2;',
    );
    expect(render('{{ range .Values.l }}[{{ . }}]{{ end }}', { l: [1, 2] })).toBe('[1][2]');
  });

  it('short-circuits and/or, so a guarded lookup of a missing key is fine', () => {
    expect(render('{{ if and (hasKey .Values "m") .Values.m.k }}yes{{ else }}no{{ end }}')).toBe('no');
    expect(render('{{ or .Values.a "fallback" }}', { a: '' })).toBe('fallback');
  });

  it('renders pipelines, includes and indentation as Helm does', () => {
    const helpers = '{{- define "name" -}}{{ .Release.Name }}-{{ $.Values.suffix }}{{- end }}';
    expect(render('n: {{ include "name" . | quote }}', { suffix: 's' }, helpers)).toBe('n: "r-s"');
    expect(render('m:\n  {{- toYaml .Values.m | nindent 2 }}', { m: { a: [1] } })).toBe('m:\n  a:\n    - 1');
    expect(render('{{ printf "%s-%d" "a" 3 | trunc 3 }}')).toBe('a-3');
    expect(render('{{ dig "a" "b" "none" .Values }}', { a: { b: 'deep' } })).toBe('deep');
  });

  it('throws on what it cannot render, naming it', () => {
    expect(() => render('{{ .Values.missing }}')).toThrow('.Values.missing is not in the values');
    expect(() => render('{{ lookup "v1" "Secret" "" "" }}')).toThrow(/function "lookup" is not supported/);
    expect(() => render('{{ if .Values.a }}x')).toThrow(TemplateError);
    expect(() => render('{{ fail "stop here" }}')).toThrow(TemplateFailure);
    expect(() => render('{{ fail "stop here" }}')).toThrow('stop here');
  });
});
