export { DataTable, type Column, type DataTableProps } from './DataTable.js';
export { clampIndex, fitColumns, visibleWindow, type ColumnSize, type RowWindow } from './fit.js';
