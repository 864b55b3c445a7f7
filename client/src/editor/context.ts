// What every part of the editor of one document knows: which document, what the signed-in role
// may do there, and where to report.
import type { Notice } from './notice';

export interface DocContext {
  id: string;
  canEdit: boolean;
  canPublish: boolean;
  notice: Notice;
}
