// The dashboard model the check holds dashboards/scalecache.json to: Grafana's
// own types from @grafana/schema (the classic JSON model, `Dashboard`), with the
// places where that package leaves things open filled in from the same package:
//
//  - panels: a union keyed by `type`, so each panel is checked against its own
//    plugin's `Options` and `FieldConfig` (the panelcfg types of @grafana/schema)
//    and unknown properties fail. A panel type missing here fails too: add its
//    panelcfg below.
//  - targets: Grafana's DataQuery plus the Prometheus query fields.
//  - JSON carries enum values as plain strings: string enums are compared by
//    their values (`Json<T>`); numeric enums accept their numbers as they are.
//  - plugin options and custom field config may leave fields out (Grafana fills
//    them from the plugin's defaults): `Defaults<T>` makes them optional, at any
//    depth, and still rejects unknown properties and wrong types.
import type * as grafana from '@grafana/schema';
import type * as stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as timeseries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as gauge from '@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen';
import type * as bargauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as text from '@grafana/schema/dist/esm/raw/composable/text/panelcfg/x/TextPanelCfg_types.gen';

type Scalar = string | number | boolean | null | undefined;

/** T as it reads in JSON: string enum members become their string values. */
export type Json<T> =
  T extends string ? `${T}` :
  T extends Scalar ? T :
  T extends ReadonlyArray<infer U> ? Array<Json<U>> :
  T extends object ? { [K in keyof T]: Json<T[K]> } :
  T;

/** Json<T> with every property optional at every depth (plugin defaults fill them). */
export type Defaults<T> =
  T extends string ? `${T}` :
  T extends Scalar ? T :
  T extends ReadonlyArray<infer U> ? Array<Defaults<U>> :
  T extends object ? { [K in keyof T]?: Defaults<T[K]> } :
  T;

/** A Prometheus query as Grafana's Prometheus data source stores it. */
export interface PrometheusQuery extends grafana.DataQuery {
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  exemplar?: boolean;
  editorMode?: 'code' | 'builder';
  format?: 'time_series' | 'table' | 'heatmap';
  interval?: string;
  intervalFactor?: number;
}

type FieldConfigSourceOf<Custom> = Omit<grafana.FieldConfigSource, 'defaults'> & {
  defaults: Omit<grafana.FieldConfig, 'custom'> & { custom?: Defaults<Custom> };
};

/** A panel of plugin `Type` with that plugin's options and custom field config. */
type PluginPanel<Type extends string, Options, Custom = Record<string, never>> =
  Omit<Json<grafana.Panel>, 'type' | 'options' | 'fieldConfig' | 'targets'> & {
    type: Type;
    options?: Defaults<Options>;
    fieldConfig?: Json<FieldConfigSourceOf<Custom>>;
    targets?: Array<Json<PrometheusQuery>>;
  };

export type PanelModel =
  | PluginPanel<'stat', stat.Options>
  | PluginPanel<'timeseries', timeseries.Options, timeseries.FieldConfig>
  | PluginPanel<'gauge', gauge.Options>
  | PluginPanel<'bargauge', bargauge.Options>
  | PluginPanel<'table', table.Options, table.FieldConfig>
  | PluginPanel<'text', text.Options>;

export type RowModel = Omit<Json<grafana.RowPanel>, 'panels'> & { panels: PanelModel[] };

/**
 * A query variable's `definition`: the query text Grafana shows in the variable
 * list. Grafana's frontend variable model has it (QueryVariableModel); the
 * generated schema does not, so it is added here and nowhere else.
 */
type VariableModel = Json<grafana.VariableModel> & { definition?: string };

export type DashboardModel = Omit<Json<grafana.Dashboard>, 'panels' | 'templating'> & {
  panels?: Array<PanelModel | RowModel>;
  templating?: { list?: VariableModel[] };
};
