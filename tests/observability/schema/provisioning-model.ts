// Grafana's file provisioning format (apiVersion 1), as its documentation
// ("Provision Grafana": data sources, dashboards) describes it. Grafana
// publishes no machine-readable schema for these files, so this is the model
// written from the documented fields; anything not listed here fails the check.

/** conf/provisioning/datasources/*.yaml */
export interface DatasourcesFile {
  apiVersion: 1;
  /** Data sources to delete before inserting or updating those below. */
  deleteDatasources?: Array<{ name: string; orgId?: number }>;
  /** Remove provisioned data sources that are no longer in any file. */
  prune?: boolean;
  datasources?: Datasource[];
}

/**
 * One data source. `type` picks the jsonData model; only the types the
 * project provisions are listed (add a member to add a type).
 */
export type Datasource = DatasourceCommon & { type: 'prometheus'; jsonData?: PrometheusJsonData };

interface DatasourceCommon {
  name: string;
  /** proxy: Grafana's back end queries it; direct: the browser does. */
  access?: 'proxy' | 'direct';
  orgId?: number;
  uid?: string;
  url?: string;
  user?: string;
  database?: string;
  basicAuth?: boolean;
  basicAuthUser?: string;
  withCredentials?: boolean;
  isDefault?: boolean;
  /** Values Grafana stores encrypted (passwords, header values). */
  secureJsonData?: Record<string, string>;
  version?: number;
  /** Whether users may edit it in the UI. */
  editable?: boolean;
}

/** HTTP settings every HTTP-based data source takes in jsonData. */
interface HttpJsonData {
  timeout?: number;
  keepCookies?: string[];
  oauthPassThru?: boolean;
  tlsAuth?: boolean;
  tlsAuthWithCACert?: boolean;
  tlsSkipVerify?: boolean;
  serverName?: string;
  sigV4Auth?: boolean;
}

/** jsonData of the Prometheus data source (its provisioning documentation). */
export interface PrometheusJsonData extends HttpJsonData {
  /** The scrape interval: the lower bound of $__interval and $__rate_interval. */
  timeInterval?: string;
  queryTimeout?: string;
  httpMethod?: 'GET' | 'POST';
  manageAlerts?: boolean;
  allowAsRecordingRulesTarget?: boolean;
  prometheusType?: 'Prometheus' | 'Cortex' | 'Mimir' | 'Thanos';
  prometheusVersion?: string;
  cacheLevel?: 'Low' | 'Medium' | 'High' | 'None';
  incrementalQuerying?: boolean;
  incrementalQueryOverlapWindow?: string;
  disableRecordingRules?: boolean;
  disableMetricsLookup?: boolean;
  defaultEditor?: 'code' | 'builder';
  customQueryParameters?: string;
  seriesEndpoint?: boolean;
  seriesLimit?: number;
  exemplarTraceIdDestinations?: Array<{
    name: string;
    datasourceUid?: string;
    url?: string;
    urlDisplayLabel?: string;
  }>;
}

/** conf/provisioning/dashboards/*.yaml */
export interface DashboardsFile {
  apiVersion: 1;
  providers: DashboardProvider[];
}

export interface DashboardProvider {
  /** Unique name of the provider. */
  name: string;
  orgId?: number;
  /** Folder the dashboards go into (created if missing); empty: General. */
  folder?: string;
  folderUid?: string;
  type?: 'file';
  /** Forbid deleting the provisioned dashboards from the UI. */
  disableDeletion?: boolean;
  /** How often Grafana looks for changed files. */
  updateIntervalSeconds?: number;
  /** Allow saving changes made in the UI (they are not written to the files). */
  allowUiUpdates?: boolean;
  options: {
    /** Directory (or file) the dashboards are read from. */
    path: string;
    /** Mirror the directory tree as folders (folder and folderUid unset). */
    foldersFromFilesStructure?: boolean;
  };
}
