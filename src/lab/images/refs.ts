// The image references the lab's nodes hold. Pods keep their canonical references
// (manifests stay as they are on any cluster); the lab builds each image locally and
// imports it into every node's containerd under that reference, and never pulls.
import { PAUSE_IMAGE } from '../node/config.js';
import { AGNHOST_IMAGE, defaultKitImage } from '../../kube/images.js';

export { AGNHOST_IMAGE, PAUSE_IMAGE };
export const KIT_IMAGE = defaultKitImage();
