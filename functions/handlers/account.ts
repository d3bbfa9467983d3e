/** AccountFunction: export, import and deletion of all of a user's data. */
import { apiHandler } from '../shared/handler';
import { ValidationError } from '../shared/errors';
import { deleteUserData, exportUserData, importUserData } from '../account/user-data';

export type AccountEvent =
  | { field: 'exportData'; userId: string }
  | { field: 'importData'; userId: string; data: unknown }
  | { field: 'deleteAccount'; userId: string };

export const handler = apiHandler('account', async (event: AccountEvent) => {
  switch (event.field) {
    case 'exportData':
      return JSON.stringify(await exportUserData(event.userId));
    case 'importData':
      return importUserData(event.userId, event.data);
    case 'deleteAccount':
      await deleteUserData(event.userId);
      return true;
    default:
      throw new ValidationError('unknown account operation');
  }
});
