import type { IIoK8sApimachineryPkgApiResourceQuantity as Quantity } from '@kubernetes-models/apimachinery/api/resource/Quantity';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import type { IAffinity } from 'kubernetes-models/v1/Affinity';
import type { ILocalObjectReference } from 'kubernetes-models/v1/LocalObjectReference';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { IToleration } from 'kubernetes-models/v1/Toleration';

/**
 * The spec of a RabbitMQ Cluster Operator `rabbitmq.com/v1beta1` RabbitmqCluster, for
 * the TypeChecker (unknown fields fail, as the API server's strict field validation
 * makes them fail).
 *
 * Written from the operator's API reference (RabbitmqClusterSpec, operator 2.x),
 * because no registry the tests may use ships its CRD or a model generated from it
 * (unlike Strimzi, CloudNativePG, KEDA and the Prometheus Operator). It covers every
 * field of the spec but two that take whole generated manifests — `override` and
 * `secretBackend` — which are left unchecked here: a manifest that uses them should
 * bring their schema along.
 */
export interface RabbitmqClusterSpec {
  /** Nodes; odd, so a partition leaves one side with the quorum. Minimum 0. */
  replicas?: number;
  image?: string;
  imagePullSecrets?: ILocalObjectReference[];
  service?: {
    type?: 'ClusterIP' | 'LoadBalancer' | 'NodePort';
    annotations?: Record<string, string>;
    ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
    labels?: Record<string, string>;
  };
  persistence?: {
    storageClassName?: string;
    storage?: Quantity;
    emptyDir?: { medium?: string; sizeLimit?: Quantity };
  };
  resources?: IResourceRequirements;
  affinity?: IAffinity;
  tolerations?: IToleration[];
  rabbitmq?: {
    additionalPlugins?: string[];
    additionalConfig?: string;
    advancedConfig?: string;
    envConfig?: string;
    erlangInetConfig?: string;
  };
  tls?: { secretName?: string; caSecretName?: string; disableNonTLSListeners?: boolean };
  override?: unknown;
  skipPostDeploySteps?: boolean;
  autoEnableAllFeatureFlags?: boolean;
  terminationGracePeriodSeconds?: number;
  delayStartSeconds?: number;
  secretBackend?: unknown;
}

export interface RabbitmqClusterProps {
  metadata: IObjectMeta;
  spec?: RabbitmqClusterSpec;
}
